"""Resolve ``data.source`` to a registered reader and read it (DESIGN.md §6).

Resolution order: ``PREFIX:NAME`` (a registered source kind), a built-in name, an existing
directory (an image folder), a path with a registered extension. Nothing here downloads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradwise.config.schema import DataConfig
from gradwise.data import builtin, files, rdata, synthetic  # noqa: F401  (they register sources)
from gradwise.data.raw import BUILTINS, FILE_FORMATS, GENERIC_OPTIONS, SOURCE_KINDS, RawData
from gradwise.errors import DataError, did_you_mean


def source_options(data: DataConfig) -> dict[str, Any]:
    """``data.options`` without the generic ones (read by preprocessing, not by sources)."""
    return {k: v for k, v in data.options.items() if k not in GENERIC_OPTIONS}


def _split_prefix(source: str) -> tuple[str, str] | None:
    """``'sklearn:iris'`` → ``('sklearn', 'iris')``; a drive letter (``C:\\``) is no prefix."""
    prefix, sep, name = source.partition(":")
    if not sep or len(prefix) < 2 or "/" in prefix or "\\" in prefix:
        return None
    return prefix, name


def read_source(data: DataConfig, seed: int = 0) -> RawData:
    """Read ``data.source`` into :class:`RawData` (before splitting and preprocessing).

    ``seed`` seeds the synthetic generators (it is the experiment seed).
    """
    source = data.source.strip()
    options = source_options(data)
    prefixed = _split_prefix(source)
    if prefixed is not None and not Path(source).exists():
        prefix, name = prefixed
        if prefix not in SOURCE_KINDS:
            raise DataError(
                f"data.source: unknown source kind '{prefix}:'{did_you_mean(prefix, SOURCE_KINDS)}"
                f"; expected one of {', '.join(f'{k}:NAME' for k in SOURCE_KINDS)}, "
                "a built-in name or a file path"
            )
        return SOURCE_KINDS.get(prefix)(name, options, seed)
    if source in BUILTINS:
        return BUILTINS.get(source)(source, options, seed)
    path = Path(source).expanduser()
    suffix = path.suffix.lower()
    if suffix in FILE_FORMATS:
        return FILE_FORMATS.get(suffix)(str(path), options, seed)
    if path.is_dir():
        return files.read_image_folder(path, options)
    if not suffix and "/" not in source and "\\" not in source and not path.exists():
        raise DataError(
            f"data.source: unknown built-in dataset '{source}'{_suggest(source)}; expected "
            f"{' or '.join(BUILTINS)}, sklearn:NAME, rdata:PACKAGE/NAME, synthetic:NAME, "
            "a .csv/.parquet/.npz file or an image folder"
        )
    raise files.unknown_extension(path)


def _suggest(name: str) -> str:
    """Did-you-mean over built-in names, also finding ``iris`` as ``sklearn:iris``."""
    for prefix, names in (("sklearn", builtin.SKLEARN_SETS), ("synthetic", synthetic.GENERATORS)):
        if name.lower() in names:
            return f" (did you mean '{prefix}:{name.lower()}'?)"
    return did_you_mean(name, BUILTINS)
