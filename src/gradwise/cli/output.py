"""Terminal output helpers for the CLI: tables, JSON, one-line errors and warnings."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


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
