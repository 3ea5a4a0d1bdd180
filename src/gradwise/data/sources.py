"""Resolve ``data.source`` to a registered reader and read it (DESIGN.md §6).

Resolution order (:func:`gradwise.data.options.locate_source`): ``PREFIX:NAME`` (a registered
source kind), a built-in name, a path with a registered extension, an existing directory (an
image folder). Each reader reads its ``data.options`` as the model declared for it in
:mod:`.options`. Nothing here downloads.
"""

from __future__ import annotations

from pathlib import Path

from gradwise.config.schema import DataConfig
from gradwise.data import builtin, files, rdata, synthetic  # noqa: F401  (they register sources)
from gradwise.data.options import locate_source
from gradwise.data.raw import BUILTINS, FILE_FORMATS, SOURCE_KINDS, RawData
from gradwise.errors import DataError, did_you_mean


def read_source(data: DataConfig, seed: int = 0) -> RawData:
    """Read ``data.source`` into :class:`RawData` (before splitting and preprocessing).

    ``seed`` seeds the synthetic generators (it is the experiment seed).
    """
    ref = locate_source(data.source)
    options = data.options
    if ref.form == "prefixed":
        if ref.key not in SOURCE_KINDS:
            raise DataError(
                f"data.source: unknown source kind '{ref.key}:'"
                f"{did_you_mean(ref.key, SOURCE_KINDS)}; expected one of "
                f"{', '.join(f'{k}:NAME' for k in SOURCE_KINDS)}, a built-in name or a file path"
            )
        return SOURCE_KINDS.get(ref.key)(ref.name, options, seed)
    if ref.form == "builtin":
        return BUILTINS.get(ref.key)(ref.name, options, seed)
    if ref.form == "file":
        return FILE_FORMATS.get(ref.key)(ref.name, options, seed)
    if ref.form == "folder":
        return files.read_image_folder(Path(ref.name), options)
    if ref.form == "unknown_name":
        raise DataError(
            f"data.source: unknown built-in dataset '{ref.name}'{suggest_source(ref.name)}; "
            f"expected {' or '.join(BUILTINS)}, sklearn:NAME, rdata:PACKAGE/NAME, synthetic:NAME, "
            "a .csv/.parquet/.npz file or an image folder"
        )
    raise files.unknown_extension(Path(ref.name))


def suggest_source(name: str) -> str:
    """Did-you-mean over built-in names, also finding ``iris`` as ``sklearn:iris``."""
    for prefix, names in (("sklearn", builtin.SKLEARN_SETS), ("synthetic", synthetic.GENERATORS)):
        if name.lower() in names:
            return f" (did you mean '{prefix}:{name.lower()}'?)"
    return did_you_mean(name, BUILTINS)
