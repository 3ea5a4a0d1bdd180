"""The names and options of every augmentation and sampling method — torch-free.

The experiment schema validates ``data.augment`` and ``data.sampling`` against these tables
without importing torch; the builders in :mod:`.compose` and :mod:`.sampling` receive the
validated option objects.

An augmentation entry is ``{name: options}`` where ``options`` is a mapping, a bare value for the
augmentation's main option (``{gaussian_noise: 0.1}`` sets ``sigma``), or nothing (``hflip`` or
``{hflip: null}``). Sampling is a name (``oversample``) or ``{name: random, fraction: 0.5}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gradwise.config.errors import format_validation_error
from gradwise.errors import ConfigError, did_you_mean

Chance = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


class Options(BaseModel):
    """Base of every option set: unknown options are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    shorthand: ClassVar[str | None] = None  # the option a bare value sets


# ------------------------------------------------------------------------------ augmentation
class AugmentOptions(Options):
    inputs: ClassVar[tuple[str, ...]] = ("tabular", "signal", "image")  # input kinds it fits
    p: Chance = 1.0  # probability that each sample of the batch is augmented

    def check_shape(self, where: str, feature_shape: tuple[int, ...]) -> None:
        """ConfigError when these options cannot work on examples of ``feature_shape``.

        ``where`` is the entry's key, e.g. ``data.augment[0].crop``. Nothing to check by default.
        """


class UniformNoise(AugmentOptions):
    shorthand = "amount"
    amount: NonNegative = 0.1


class GaussianNoise(AugmentOptions):
    shorthand = "sigma"
    sigma: NonNegative = 0.1


class DropoutNoise(AugmentOptions):
    shorthand = "rate"
    rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1


class MultiplicativeNoise(AugmentOptions):
    shorthand = "sigma"
    sigma: NonNegative = 0.1


class Mixup(AugmentOptions):
    shorthand = "alpha"
    alpha: Annotated[float, Field(gt=0.0)] = 0.2


class Shift(AugmentOptions):
    inputs = ("signal",)
    shorthand = "max"
    max: Annotated[int, Field(ge=0)] = 4
    mode: Literal["circular", "zeros"] = "circular"


class Scale(AugmentOptions):
    shorthand = "amount"
    amount: Fraction = 0.1


class Stretch(AugmentOptions):
    inputs = ("signal",)
    shorthand = "amount"
    amount: Fraction = 0.1


class TimeMask(AugmentOptions):
    inputs = ("signal",)
    shorthand = "width"
    width: Annotated[int, Field(ge=1)] = 4
    count: Annotated[int, Field(ge=1)] = 1


class HorizontalFlip(AugmentOptions):
    inputs = ("image",)
    shorthand = "p"
    p: Chance = 0.5


class Crop(AugmentOptions):
    inputs = ("image",)
    shorthand = "padding"
    padding: Annotated[int, Field(ge=0)] = 4
    fill: Literal["zeros", "reflect", "replicate"] = "zeros"

    def check_shape(self, where: str, feature_shape: tuple[int, ...]) -> None:
        height, width = feature_shape[-2:]
        if self.fill == "reflect" and self.padding >= min(height, width):
            raise ConfigError(
                f"{where}.padding: fill: reflect needs padding < min(H, W) = "
                f"{min(height, width)} for {height}×{width} images, got {self.padding}; "
                "lower padding or use fill: replicate or zeros"
            )


class Affine(AugmentOptions):
    inputs = ("image",)
    shorthand = "degrees"
    degrees: Annotated[float, Field(ge=0.0, le=180.0)] = 10.0
    translate: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.1


class Cutout(AugmentOptions):
    inputs = ("image",)
    shorthand = "size"
    size: Annotated[int, Field(ge=1)] = 8


AUGMENT_OPTIONS: dict[str, type[AugmentOptions]] = {
    "uniform_noise": UniformNoise,
    "gaussian_noise": GaussianNoise,
    "dropout_noise": DropoutNoise,
    "multiplicative_noise": MultiplicativeNoise,
    "mixup": Mixup,
    "shift": Shift,
    "scale": Scale,
    "stretch": Stretch,
    "time_mask": TimeMask,
    "hflip": HorizontalFlip,
    "crop": Crop,
    "affine": Affine,
    "cutout": Cutout,
}


# ---------------------------------------------------------------------------------- sampling
class SamplingOptions(Options):
    classification_only: ClassVar[bool] = True


class NoSampling(SamplingOptions):
    classification_only = False


class RandomSubsample(SamplingOptions):
    """Keep a random ``fraction`` or ``size`` of the training rows (stratified by class)."""

    classification_only = False
    fraction: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    size: Annotated[int, Field(ge=1)] | None = None
    stratify: bool = True  # classification: keep the class proportions

    @model_validator(mode="after")
    def _fraction_or_size(self) -> RandomSubsample:
        if (self.fraction is None) == (self.size is None):
            raise ValueError("give exactly one of fraction (0 < f ≤ 1) or size (rows)")
        return self


class Undersample(SamplingOptions):
    """Drop random rows of the larger classes until each has ≤ minority / ratio rows."""

    ratio: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


class Oversample(SamplingOptions):
    """Repeat random rows of the smaller classes until each has ≥ ratio × majority rows."""

    ratio: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


class Smote(Oversample):
    """Synthesize minority rows between neighbours (Chawla et al., 2002)."""

    k_neighbors: Annotated[int, Field(ge=1)] = 5


class ClassWeight(SamplingOptions):
    """No resampling: the loss weighs class k by N / (K · N_k) (``train.class_weights``)."""


SAMPLING_OPTIONS: dict[str, type[SamplingOptions]] = {
    "none": NoSampling,
    "random": RandomSubsample,
    "undersample": Undersample,
    "oversample": Oversample,
    "smote": Smote,
    "class_weight": ClassWeight,
}


# ---------------------------------------------------------------------------------- parsing
def parse_augment_entry(index: int, entry: Any) -> tuple[str, AugmentOptions]:
    """``{name: options}`` (or a bare name) → ``(name, validated options)``.

    Raises :class:`ConfigError` naming ``data.augment[index].name``.
    """
    where = f"data.augment[{index}]"
    if isinstance(entry, str):
        entry = {entry: None}
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise ConfigError(
            f"{where}: expected one augmentation as {{name: options}}, e.g. "
            f"{{gaussian_noise: 0.1}}, got {entry!r}"
        )
    ((name, value),) = entry.items()
    name = str(name)
    if name not in AUGMENT_OPTIONS:
        raise ConfigError(
            f"{where}: unknown augmentation '{name}'{did_you_mean(name, AUGMENT_OPTIONS)}; "
            f"choose from: {', '.join(AUGMENT_OPTIONS)}"
        )
    return name, _validate(AUGMENT_OPTIONS[name], value, f"{where}.{name}")


def parse_augment(entries: list[Any]) -> list[tuple[str, AugmentOptions]]:
    return [parse_augment_entry(i, entry) for i, entry in enumerate(entries)]


def parse_sampling(spec: Any) -> tuple[str, SamplingOptions]:
    """``"oversample"`` or ``{name: random, fraction: 0.5}`` → ``(name, validated options)``."""
    if isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, Mapping) and "name" in spec:
        name, options = str(spec["name"]), {k: v for k, v in spec.items() if k != "name"}
    else:
        raise ConfigError(
            f"data.sampling: expected a method name or {{name: ..., options}}, got {spec!r}"
        )
    if name not in SAMPLING_OPTIONS:
        raise ConfigError(
            f"data.sampling: unknown sampling '{name}'{did_you_mean(name, SAMPLING_OPTIONS)}; "
            f"choose from: {', '.join(SAMPLING_OPTIONS)}"
        )
    return name, _validate(SAMPLING_OPTIONS[name], options, f"data.sampling.{name}")


def _validate(cls: type[Options], value: Any, where: str) -> Any:
    if value is None:
        value = {}
    elif not isinstance(value, Mapping):
        if cls.shorthand is None:
            raise ConfigError(f"{where}: takes options as a mapping, got {value!r}")
        value = {cls.shorthand: value}
    try:
        return cls.model_validate(dict(value))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, cls, where)) from None
