"""The options of every data source (``data.options``), one small strict model per source.

The schema checks ``data.options`` against the model of the source named by ``data.source`` when
the config loads, so an unknown or mistyped option is one line naming ``data.options.<key>``
before anything is read; the sources then read their options from the same models. Torch-free and
light (no numpy or pandas): the schema imports it.

Which model applies follows how ``data.source`` is read (:func:`locate_source`)::

    options_model("synthetic:moons")  # MoonsOptions: n_samples, noise
    options_model("sklearn:digits")   # DigitsOptions: as_image
    options_model("table.csv")        # CsvOptions: sep
    options_model("rdata:MASS/Boston")  # NoOptions

Every model also takes ``scale_target``, which preprocessing reads (not the source).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, ValidationError

from gradwise.config.errors import NestedProblem, first_problem, format_validation_error
from gradwise.config.sections import Section
from gradwise.errors import DataError

PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegative = Annotated[float, Field(ge=0.0)]
ClassCount = Annotated[int, Field(ge=2)]
ClassWeights = list[NonNegative] | None  # relative class frequencies, e.g. [0.9, 0.1]


class SourceOptions(Section):
    """Base of every source's options: unknown keys and wrong types are errors."""

    scale_target: bool = True  # values targets: standardize them on the training split

    def reader_args(self) -> dict[str, Any]:
        """The options the source itself reads (every one but ``scale_target``), defaults filled."""
        return self.model_dump(exclude=set(SourceOptions.model_fields))

    def given_args(self) -> dict[str, Any]:
        """The options the source reads that were given (JSON types), e.g. for a cache key."""
        generic = set(SourceOptions.model_fields)
        return self.model_dump(mode="json", exclude_unset=True, exclude=generic)


T = TypeVar("T", bound=SourceOptions)


class NoOptions(SourceOptions):
    """A source with no options of its own."""


# ------------------------------------------------------------------------------------ files
class CsvOptions(SourceOptions):
    sep: Annotated[str, Field(min_length=1)] = ","  # column separator, e.g. ";" or "\t"


class ImageFolderOptions(SourceOptions):
    # every image is resized to (size, size) or to [height, width]
    image_size: PositiveInt | tuple[PositiveInt, PositiveInt] = 32
    channels: Literal[1, 3] | None = None  # 1: grey, 3: RGB; None: RGB when any image has colour


# --------------------------------------------------------------------------------- built-in
class Mnist1dOptions(SourceOptions):
    """``mnist1d.data.make_dataset`` arguments (same defaults; a test checks them)."""

    num_samples: PositiveInt = 5000  # examples, train and test together
    train_split: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.8  # share of the fixed train split
    template_len: PositiveInt = 12
    padding: tuple[NonNegativeInt, NonNegativeInt] = (36, 60)
    scale_coeff: NonNegative = 0.4
    max_translation: NonNegativeInt = 48
    corr_noise_scale: NonNegative = 0.25
    iid_noise_scale: NonNegative = 0.02
    shear_scale: NonNegative = 0.75
    shuffle_seq: bool = False
    final_seq_length: PositiveInt = 40
    seed: NonNegativeInt = 42  # the generator's seed (not the experiment's)


class DigitsOptions(SourceOptions):
    as_image: bool = False  # (n, 1, 8, 8) images in [0, 1] instead of a 64-column table


# -------------------------------------------------------------------------------- synthetic
class ClassificationOptions(SourceOptions):
    """scikit-learn's ``make_classification``."""

    n_samples: PositiveInt = 1000
    n_features: PositiveInt = 20
    n_informative: PositiveInt = 5
    n_redundant: NonNegativeInt = 2
    n_classes: ClassCount = 2
    weights: ClassWeights = None
    class_sep: NonNegative = 1.0
    flip_y: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01  # share of randomly assigned labels


class RegressionOptions(SourceOptions):
    """scikit-learn's ``make_regression``."""

    n_samples: PositiveInt = 1000
    n_features: PositiveInt = 10
    n_informative: NonNegativeInt = 5
    n_targets: PositiveInt = 1
    noise: NonNegative = 10.0
    bias: float = 0.0


class MoonsOptions(SourceOptions):
    n_samples: PositiveInt = 1000
    noise: NonNegative = 0.2


class BlobsOptions(SourceOptions):
    n_samples: PositiveInt = 1000
    n_features: PositiveInt = 2
    centers: PositiveInt | list[list[float]] = 3  # how many, or their coordinates
    cluster_std: NonNegative | list[NonNegative] = 1.0


class SignalsOptions(SourceOptions):
    n_samples: PositiveInt = 1000
    length: PositiveInt = 64  # samples per waveform
    n_classes: ClassCount = 4
    noise: NonNegative = 0.3
    weights: ClassWeights = None


class ImagesOptions(SourceOptions):
    n_samples: PositiveInt = 1000
    size: PositiveInt = 16  # pixels per side
    n_classes: ClassCount = 4
    noise: NonNegative = 0.2
    weights: ClassWeights = None


# ------------------------------------------------------------------------ options by source
# The readers are registered under the same names (gradwise.data.raw; a test checks).
# Each generator is named after its options model: ``synthetic:moons`` takes MoonsOptions.
SYNTHETIC_OPTIONS: dict[str, type[SourceOptions]] = {
    model.__name__.removesuffix("Options").lower(): model
    for model in (
        ClassificationOptions,
        RegressionOptions,
        MoonsOptions,
        BlobsOptions,
        SignalsOptions,
        ImagesOptions,
    )
}
SKLEARN_OPTIONS: dict[str, type[SourceOptions]] = {
    "digits": DigitsOptions,
    "iris": NoOptions,
    "wine": NoOptions,
    "breast_cancer": NoOptions,
    "diabetes": NoOptions,
}
RDATA_OPTIONS: type[SourceOptions] = NoOptions  # every rdata:PACKAGE/NAME
# data.source "PREFIX:NAME" → the options of NAME (None: no such NAME)
PREFIXED_OPTIONS: dict[str, Callable[[str], type[SourceOptions] | None]] = {
    "sklearn": SKLEARN_OPTIONS.get,
    "synthetic": SYNTHETIC_OPTIONS.get,
    "rdata": lambda name: RDATA_OPTIONS,
}
BUILTIN_OPTIONS: dict[str, type[SourceOptions]] = {"mnist1d": Mnist1dOptions}
FILE_OPTIONS: dict[str, type[SourceOptions]] = {
    ".csv": CsvOptions,
    ".parquet": NoOptions,
    ".pq": NoOptions,
    ".npz": NoOptions,
}
FOLDER_OPTIONS: type[ImageFolderOptions] = ImageFolderOptions


@dataclass(frozen=True)
class SourceRef:
    """What ``data.source`` names."""

    form: Literal["prefixed", "builtin", "file", "folder", "unknown_name", "unknown_file"]
    key: str  # the prefix ("sklearn"), the built-in name ("mnist1d") or the suffix (".csv")
    name: str  # what the reader gets: the name after the prefix, or the path


def locate_source(source: str, base: str | Path | None = None) -> SourceRef:
    """Resolution order: ``PREFIX:NAME``, a built-in name, a path with a known extension, an
    existing directory (an image folder). Nothing is read; only paths are looked at, relative
    ones in ``base`` (the current directory when None); the ref's ``name`` keeps them relative."""
    source = source.strip()
    prefix, sep, name = source.partition(":")
    # a drive letter (C:\...) is no prefix, and a file may have a colon in its name
    is_prefix = sep and len(prefix) >= 2 and "/" not in prefix and "\\" not in prefix
    where = Path(base) if base is not None else Path()
    if is_prefix and not (where / source).exists():
        return SourceRef("prefixed", prefix, name)
    if source in BUILTIN_OPTIONS:
        return SourceRef("builtin", source, source)
    path = Path(source).expanduser()
    suffix = path.suffix.lower()
    if suffix in FILE_OPTIONS:
        return SourceRef("file", suffix, str(path))
    if (where / path).is_dir():
        return SourceRef("folder", "", str(path))
    if not suffix and "/" not in source and "\\" not in source and not (where / path).exists():
        return SourceRef("unknown_name", "", source)
    return SourceRef("unknown_file", suffix, str(path))


def resolve_source(source: str, base: str | Path | None = None) -> str:
    """``data.source`` with a relative path made absolute against ``base`` (an experiment
    file's folder; the current directory when None). Built-in names, ``PREFIX:NAME`` and
    absolute paths come back as they are::

        resolve_source("churn.csv", "/home/me/csv")  # '/home/me/csv/churn.csv'
        resolve_source("sklearn:iris", "/home/me")   # 'sklearn:iris'
    """
    ref = locate_source(source, base)
    if ref.form in ("prefixed", "builtin", "unknown_name"):
        return source
    path = Path(ref.name)
    if path.is_absolute():
        return ref.name
    return os.path.abspath(Path(base) / path if base is not None else path)


def options_model(source: str | SourceRef) -> type[SourceOptions] | None:
    """The options model of a source; None when no source of that name exists (reading it then
    says what does)."""
    ref = locate_source(source) if isinstance(source, str) else source
    if ref.form == "prefixed":
        by_name = PREFIXED_OPTIONS.get(ref.key)
        return by_name(ref.name) if by_name else None
    if ref.form == "builtin":
        return BUILTIN_OPTIONS[ref.key]
    if ref.form == "file":
        return FILE_OPTIONS[ref.key]
    if ref.form == "folder":
        return FOLDER_OPTIONS
    return None


def check_options(source: str, options: Mapping[str, Any]) -> None:
    """The schema's check of ``data.options``: a :class:`NestedProblem` naming the option."""
    model = options_model(source)
    if model is None:
        return
    try:
        model.model_validate(dict(options))
    except ValidationError as exc:
        raise NestedProblem(first_problem(exc, model)) from None


def parse_options(model: type[T], options: Mapping[str, Any], strict: bool = True) -> T:
    """A reader's options as ``model``; ``strict=False`` ignores options it does not take.

    The config has checked them already; a :class:`DataError` names the option otherwise.
    """
    if not strict:
        options = {key: value for key, value in options.items() if key in model.model_fields}
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        raise DataError(format_validation_error(exc, model, "data.options")) from None
