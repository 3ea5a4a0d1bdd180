"""User files: CSV and Parquet tables, NPZ arrays and image folders (one sub-folder per class).

Every reader turns an unreadable input into one :class:`DataError` line naming the file, what
was expected and what was found.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gradwise.data.options import FILE_OPTIONS, FOLDER_OPTIONS, CsvOptions, parse_options
from gradwise.data.raw import FILE_FORMATS, RawData, check_arrays, kind_of_shape
from gradwise.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise DataError(f"data.source: file not found: '{path}'")
    if path.is_dir():
        raise DataError(f"data.source: '{path}' is a directory, expected {what}")
    if path.stat().st_size == 0:
        raise DataError(f"data.source: '{path}' is empty (0 bytes), expected {what}")


def _checked_table(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    if table.shape[1] == 0:
        raise DataError(f"data.source: '{path}' has no columns")
    if len(table) == 0:
        raise DataError(f"data.source: '{path}' has a header but no rows")
    return table


@FILE_FORMATS.register(".csv")
def read_csv(name: str, options: Mapping[str, Any], seed: int) -> RawData:
    path = Path(name)
    check_file(path, "a CSV file")
    opts = parse_options(CsvOptions, options)
    with path.open("rb") as handle:
        if b"\x00" in handle.read(8192):
            raise DataError(f"data.source: '{path}' looks like a binary file, expected CSV text")
    try:
        table = pd.read_csv(path, sep=opts.sep)
    except pd.errors.EmptyDataError as err:
        raise DataError(f"data.source: '{path}' has no header and no rows") from err
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"data.source: cannot read '{path}' as CSV: {reason}") from err
    return RawData(source=str(path), table=_checked_table(table, path))


@FILE_FORMATS.register(".parquet")
def read_parquet(name: str, options: Mapping[str, Any], seed: int) -> RawData:
    path = Path(name)
    check_file(path, "a Parquet file")
    parse_options(FILE_OPTIONS[".parquet"], options)
    try:
        table = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises its own types (ArrowInvalid, ...)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"data.source: cannot read '{path}' as Parquet: {reason}") from err
    return RawData(source=str(path), table=_checked_table(table, path))


FILE_FORMATS.register(".pq")(read_parquet)


@FILE_FORMATS.register(".npz")
def read_npz(name: str, options: Mapping[str, Any], seed: int, need_y: bool = True) -> RawData:
    """Arrays ``x`` and ``y`` (and optionally ``x_test``/``y_test``) from a NumPy ``.npz``."""
    path = Path(name)
    check_file(path, "a NumPy .npz file")
    parse_options(FILE_OPTIONS[".npz"], options)
    if not zipfile.is_zipfile(path):
        raise DataError(f"data.source: cannot read '{path}' as .npz: not a zip archive of arrays")
    try:
        with np.load(path, allow_pickle=False) as stored:  # no pickles: loading runs no code
            arrays = {key: stored[key] for key in stored.files}
    except ValueError as err:
        raise DataError(
            f"data.source: '{path}' holds object arrays (pickled); save plain numeric arrays"
        ) from err
    except Exception as err:  # BadZipFile, OSError, EOFError ...
        raise DataError(f"data.source: cannot read '{path}' as .npz: {err}") from err
    required = ("x", "y") if need_y else ("x",)
    missing = [key for key in required if key not in arrays]
    if missing:
        found = ", ".join(sorted(arrays)) or "nothing"
        raise DataError(
            f"data.source: '{path}' must contain arrays {' and '.join(map(repr, required))}; "
            f"missing {', '.join(map(repr, missing))} (found: {found})"
        )
    x, y = check_arrays(arrays["x"], arrays.get("y"), f"'{path}'")
    x_test, y_test = arrays.get("x_test"), arrays.get("y_test")
    if (x_test is None) != (y_test is None):
        raise DataError(f"data.source: '{path}' must hold both 'x_test' and 'y_test', or neither")
    if x_test is not None:
        x_test, y_test = check_arrays(x_test, y_test, f"'{path}'", "x_test", "y_test")
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"data.source: '{path}': 'x_test' rows have shape {x_test.shape[1:]}, "
                f"but 'x' rows have shape {x.shape[1:]}"
            )
    return RawData(
        source=str(path),
        x=x,
        y=y,
        x_test=x_test,
        y_test=y_test,
        input_kind=kind_of_shape(x.shape[1:]),
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _read_images(files: list[Path], size: tuple[int, int], mode: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    images = np.empty((len(files), 1 if mode == "L" else 3, *size), dtype=np.float32)
    for i, file in enumerate(files):
        try:
            with Image.open(file) as image:
                pixels = image.convert(mode).resize((size[1], size[0]), Image.Resampling.BILINEAR)
        except (OSError, UnidentifiedImageError) as err:
            raise DataError(f"data.source: cannot read image '{file}': {err}") from err
        array = np.asarray(pixels, dtype=np.float32) / 255.0  # (h, w) or (h, w, 3)
        images[i] = array[None] if mode == "L" else array.transpose(2, 0, 1)
    return images  # (n, c, h, w) in [0, 1]


def _image_mode(files: list[Path], channels: int | None) -> str:
    if channels is not None:
        return "L" if channels == 1 else "RGB"
    from PIL import Image

    for file in files:
        try:
            with Image.open(file) as image:
                if image.mode not in ("1", "L", "I", "I;16", "F"):
                    return "RGB"
        except OSError as err:
            raise DataError(f"data.source: cannot read image '{file}': {err}") from err
    return "L"


def read_image_folder(folder: Path, options: Mapping[str, Any], need_y: bool = True) -> RawData:
    """Images under ``folder/<class>/`` (or directly in ``folder`` when ``need_y`` is false);
    without ``need_y`` (new inputs), options for other sources are ignored."""
    opts = parse_options(FOLDER_OPTIONS, options, strict=need_y)
    size = opts.image_size
    size = (size, size) if isinstance(size, int) else size
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and _image_files(p))
    files: list[Path] = []
    labels: list[str] = []
    for class_dir in class_dirs:
        found = _image_files(class_dir)
        files += found
        labels += [class_dir.name] * len(found)
    if not files and not need_y:
        files = _image_files(folder)
    if not files:
        raise DataError(
            f"data.source: image folder '{folder}' has no sub-folders with images "
            f"({', '.join(IMAGE_SUFFIXES)}); expected one sub-folder per class"
        )
    x = _read_images(files, size, _image_mode(files, opts.channels))
    y = np.asarray(labels, dtype=object) if labels else None
    return RawData(source=str(folder), x=x, y=y, input_kind="image")


INPUTS = (
    "a file path (CSV/Parquet/NPZ or an image folder), a pandas DataFrame, a mapping (one row, "
    "or column -> values), a list of mappings (rows) or a NumPy array"
)


def read_input_file(data: Any, options: Mapping[str, Any] | None = None) -> RawData:
    """New inputs for predict/evaluate as :class:`RawData`: a table, or an array ``x``.

    ``data`` is a path (CSV/Parquet/NPZ by extension, or an image folder), a DataFrame, a
    mapping (one row ``{"age": 41}`` or columns ``{"age": [41, 35]}``), a list of mappings (rows)
    or an array (``x``; :meth:`Preprocessor.transform_features` names a table run's columns).
    Labels are optional here: an NPZ needs only ``x``, an image folder may hold images directly.
    ``options`` are the run's ``data.options`` (``image_size``/``channels`` for images); options
    meant for other sources are ignored.
    """
    if isinstance(data, RawData):
        return data
    if isinstance(data, (str, os.PathLike)):
        return _read_input_path(Path(data), options)
    if isinstance(data, pd.DataFrame):
        return RawData(source="DataFrame", table=data)
    if isinstance(data, pd.Series):  # one row, indexed by column
        return RawData(source="Series", table=data.to_frame().T.infer_objects())
    if isinstance(data, Mapping):
        return RawData(source="mapping", table=_mapping_table(data))
    if isinstance(data, (list, tuple)) and data and all(isinstance(r, Mapping) for r in data):
        return RawData(source="list of mappings", table=pd.DataFrame(list(data)))
    if isinstance(data, (np.ndarray, list, tuple)) or hasattr(data, "__array__"):
        x = np.asarray(data)
        if x.size == 0:
            raise DataError(f"inputs: the {type(data).__name__} has no rows")
        return RawData(source="array", x=x, input_kind=kind_of_shape(x.shape[1:]))
    raise DataError(f"inputs: got {type(data).__name__}; expected {INPUTS}")


def _mapping_table(data: Mapping[str, Any]) -> pd.DataFrame:
    """One row when every value is a scalar, else one column per key."""
    if all(np.ndim(value) == 0 for value in data.values()):
        return pd.DataFrame([dict(data)])
    try:
        return pd.DataFrame(dict(data))
    except ValueError as err:  # columns of different lengths
        raise DataError(f"inputs: cannot read the mapping as columns: {err}") from None


def _read_input_path(path: Path, options: Mapping[str, Any] | None) -> RawData:
    options = dict(options or {})
    suffix = path.suffix.lower()
    if path.is_dir() and suffix not in FILE_FORMATS:
        return read_image_folder(path, options, need_y=False)
    if suffix not in FILE_FORMATS:
        raise unknown_extension(path)
    if suffix == ".npz":
        return read_npz(str(path), {}, 0, need_y=False)
    file_options = parse_options(FILE_OPTIONS[suffix], options, strict=False).reader_args()
    return FILE_FORMATS.get(suffix)(str(path), file_options, 0)


def unknown_extension(path: Path) -> DataError:
    formats = ", ".join(FILE_FORMATS.names())
    if not path.exists():
        return DataError(
            f"data.source: '{path}' is not a built-in dataset and no such file exists "
            f"(files need one of: {formats}, or an image folder)"
        )
    return DataError(
        f"data.source: '{path}' has an unknown extension '{path.suffix}'; "
        f"expected {formats} or an image folder"
    )
