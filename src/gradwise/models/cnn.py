"""1-D and 2-D convolutional networks with optional residual connections.

Layout: conv blocks ``Conv → Norm → Act`` (padding keeps the length), a max-pool by 2 after every
``pool_every`` blocks, global average pooling, optional dense layers, dropout and a linear head.
With ``residual: true`` consecutive pairs of blocks form a residual unit
``y = act(x + norm(conv(act(norm(conv(x))))))`` (He et al., 2016), with a 1×1 conv on the skip
path when the channel count changes.
"""

from __future__ import annotations

from torch import nn

from gradwise.config.schema import CNN1dConfig, CNN2dConfig
from gradwise.models.layers import activation, norm_layer
from gradwise.models.mlp import dense_stack
from gradwise.models.registry import MODELS

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_GLOBAL_POOL = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}


class ConvBlock(nn.Sequential):
    def __init__(self, dims: int, c_in: int, c_out: int, config, act: bool = True) -> None:
        conv = _CONV[dims](
            c_in,
            c_out,
            config.kernel_size,
            padding=config.kernel_size // 2,
            bias=config.norm == "none",
        )
        super().__init__(
            conv,
            norm_layer(config.norm, c_out, dims),
            activation(config.activation) if act else nn.Identity(),
        )


class ResidualUnit(nn.Module):
    def __init__(self, dims: int, c_in: int, c_out: int, config) -> None:
        super().__init__()
        self.first = ConvBlock(dims, c_in, c_out, config)
        self.second = ConvBlock(dims, c_out, c_out, config, act=False)
        self.skip = nn.Identity() if c_in == c_out else _CONV[dims](c_in, c_out, 1, bias=False)
        self.act = activation(config.activation)

    def forward(self, x):  # (B, C_in, *S) -> (B, C_out, *S)
        return self.act(self.skip(x) + self.second(self.first(x)))


class ConvNet(nn.Module):
    def __init__(self, dims: int, config, input_shape: tuple[int, ...], output_dim: int) -> None:
        super().__init__()
        self.dims = dims
        channels_in = input_shape[0] if len(input_shape) == dims + 1 else 1
        blocks: list[nn.Module] = []
        size = min(input_shape[-dims:])
        step = 2 if config.residual else 1
        since_pool = 0
        for i in range(0, len(config.channels), step):
            c_out = config.channels[i]
            if config.residual and i + 1 < len(config.channels):
                blocks.append(ResidualUnit(dims, channels_in, config.channels[i + 1], config))
                c_out = config.channels[i + 1]
            else:
                blocks.append(ConvBlock(dims, channels_in, c_out, config))
            channels_in = c_out
            since_pool += step
            if config.pool_every and since_pool >= config.pool_every and size >= 4:
                blocks.append(_POOL[dims](2))
                size //= 2
                since_pool = 0
        self.features = nn.Sequential(*blocks)
        self.pool = _GLOBAL_POOL[dims](1)
        self.dense, width = dense_stack(channels_in, config.hidden, config)
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.head = nn.Linear(width, output_dim)

    def forward(self, x):
        if x.dim() == self.dims + 1:  # (B, *S) -> (B, 1, *S): one input channel
            x = x.unsqueeze(1)
        x = self.pool(self.features(x)).flatten(1)  # (B, C, *S) -> (B, C)
        return self.head(self.dropout(self.dense(x)))


@MODELS.register("cnn1d")
def build_cnn1d(config: CNN1dConfig, input_shape: tuple[int, ...], output_dim: int) -> nn.Module:
    if len(input_shape) not in (1, 2):
        raise _shape_error("cnn1d", "(length,) or (channels, length)", input_shape)
    return ConvNet(1, config, input_shape, output_dim)


@MODELS.register("cnn2d")
def build_cnn2d(config: CNN2dConfig, input_shape: tuple[int, ...], output_dim: int) -> nn.Module:
    if len(input_shape) not in (2, 3):
        raise _shape_error("cnn2d", "(height, width) or (channels, height, width)", input_shape)
    return ConvNet(2, config, input_shape, output_dim)


def _shape_error(kind: str, expected: str, found: tuple[int, ...]):
    from gradwise.errors import DataError

    return DataError(
        f"model.kind: {kind} expects inputs shaped {expected}, got {found}; "
        "choose a model that fits the data (mlp takes any shape)"
    )
