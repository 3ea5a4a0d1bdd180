"""Terminal output helpers for the CLI: tables, JSON, one-line errors and warnings."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from gradwise.errors import DataError


def print_json(document: Any) -> None:
    from gradwise._io import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(document), indent=2) + "\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def error(message: str) -> None:
    sys.stderr.write(f"gradwise: error: {message}\n")


def warning_line(
    message: Any,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` replacement: one line, no source location."""
    sys.stderr.write(f"gradwise: warning: {str(message).splitlines()[0]}\n")


@contextmanager
def data_from(flag: str, path: str | None, readers_only: bool = False) -> Iterator[None]:
    """Data errors name the file as the user gave it: the readers label their messages
    ``data.source`` (the experiment key), but this file came from ``flag`` (``--data``; "" for
    a positional argument). ``readers_only``: relabel only those ``data.source`` messages."""
    try:
        yield
    except DataError as exc:
        message = str(exc)
        from_reader = message.startswith("data.source: ")
        if path is None or (readers_only and not from_reader):
            raise
        message = message.removeprefix("data.source: ")
        label = " ".join(part for part in (flag, "" if path in message else path) if part)
        raise type(exc)(f"{label}: {message}" if label else message) from None
