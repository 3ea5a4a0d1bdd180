"""The model sections: one strict class per model kind, and the table of them by kind.

:data:`MODEL_CONFIGS` is the one list of model kinds. The ``model`` union of the schema (and of
``compare.models``), the error messages naming the kinds, ``gradwise init --model`` and its
starting configs are all computed from it; the torch builders in :mod:`gradwise.models` are
registered under the same names (a contract test checks). Torch-free.
"""

from __future__ import annotations

import functools
import operator
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from gradwise.config.sections import Probability, Section

Activation = Literal[
    "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh", "sigmoid", "softplus", "identity"
]
Norm = Literal["none", "batch", "layer"]
Init = Literal["default", "kaiming", "xavier", "orthogonal", "normal"]


class ModelBase(Section):
    # True: the builder takes a table's layout (``layout=``) and embeds many-valued categories
    reads_table_layout: ClassVar[bool] = False
    activation: Activation = "relu"
    norm: Norm = "none"
    dropout: Probability = 0.0
    init: Init = "default"
    # transfer (gradwise.transfer): a run directory (its best weights) or a local .safetensors
    # file; tensors are matched by name and shape, the rest keeps its fresh initialization
    init_from: str | None = None
    # module/parameter-name patterns (fnmatch, e.g. "features.*") kept frozen; train.unfreeze
    # releases them group by group
    freeze: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)


class MLPConfig(ModelBase):
    reads_table_layout: ClassVar[bool] = True
    kind: Literal["mlp"] = "mlp"
    hidden: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [256, 256])
    # numbers (a table's numeric and date features; every feature of an array): periodic: each
    # becomes itself plus 3 learned combinations of 16 periodic features (RealMLP's PBLD)
    numeric_embedding: Literal["none", "periodic"] = "none"
    # smooth clipping of the numbers at ±clip: x / sqrt(1 + (x / clip)²); null: none
    clip: Annotated[float, Field(gt=0)] | None = None


class CNN1dConfig(ModelBase):
    kind: Literal["cnn1d"] = "cnn1d"
    channels: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [32, 32, 64, 64, 128, 128]
    )
    kernel_size: Annotated[int, Field(ge=1)] = 3
    pool_every: Annotated[int, Field(ge=0)] = 2  # max-pool by 2 after every N conv layers; 0: never
    residual: bool = False  # add skip connections around pairs of conv layers
    hidden: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list)  # dense layers on top
    norm: Norm = "batch"


class CNN2dConfig(CNN1dConfig):
    kind: Literal["cnn2d"] = "cnn2d"  # type: ignore[assignment]
    channels: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [32, 32, 64, 64])


class RNNConfig(ModelBase):
    kind: Literal["rnn"] = "rnn"
    cell: Literal["rnn", "lstm", "gru"] = "lstm"
    hidden_size: Annotated[int, Field(ge=1)] = 128
    layers: Annotated[int, Field(ge=1)] = 1
    bidirectional: bool = False
    pooling: Literal["last", "mean"] = "last"  # how the sequence is summarised for the head
    activation: Activation = "tanh"  # the plain-rnn cell's nonlinearity (tanh or relu)


class TransformerConfig(ModelBase):
    kind: Literal["transformer"] = "transformer"
    embedding: Literal["patch", "feature"] = "patch"  # patch: signals/sequences; feature: tables
    patch_size: Annotated[int, Field(ge=1)] = 4  # steps per token (patch embedding)
    d_model: Annotated[int, Field(ge=1)] = 64  # token width
    heads: Annotated[int, Field(ge=1)] = 4  # attention heads (d_model must divide by it)
    layers: Annotated[int, Field(ge=1)] = 2  # pre-norm encoder blocks
    feedforward: Annotated[int, Field(ge=1)] = 128  # hidden units of each block's MLP
    positional: Literal["learned", "sinusoidal", "none"] = "learned"
    pooling: Literal["cls", "mean"] = "cls"  # a learned [CLS] token, or the mean of the tokens
    activation: Activation = "gelu"
    norm: Literal["layer"] = "layer"  # pre-norm: LayerNorm before attention and MLP
    dropout: Probability = 0.1

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TransformerConfig:
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")
        return self


def kind_of(config_class: type[ModelBase]) -> str:
    """The ``kind`` a model section class stands for (its ``kind`` literal)."""
    return config_class.model_fields["kind"].default


MODEL_CONFIGS: dict[str, type[ModelBase]] = {
    kind_of(cls): cls for cls in (MLPConfig, CNN1dConfig, CNN2dConfig, RNNConfig, TransformerConfig)
}
DEFAULT_MODEL_KIND = "mlp"  # what a model section without `kind` is

# ``model:`` is one of the classes above, chosen by its ``kind`` key.
ModelConfig = Annotated[
    functools.reduce(operator.or_, MODEL_CONFIGS.values()), Field(discriminator="kind")
]
