"""Reading a ``POST /predict`` body into inputs for the run's predict path (torch-free).

Two shapes are accepted::

    {"rows": [[5.1, 3.5, 1.4, 0.2], ...]}          # positional, in the run's input order
    {"records": [{"sepal_length": 5.1, ...}, ...]}  # one object per row, keyed by column

Only the envelope is checked here (JSON, one of the two keys, a non-empty list within the row
limit, rows of the right length, scalar cells, every input column present); what the values
mean — numbers where a column is numeric, known categories, the array shape — is checked by the
same preprocessing ``gradwise predict`` uses, so both say the same thing about the same row.
Every problem is a :class:`PayloadError` with one line naming where it is (``rows[3]``,
``records[0].color``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gradwise.errors import GradwiseError

PAYLOAD_KEYS = ("rows", "records")
SHOWN_COLUMNS = 10  # columns named in a message before "..."


class PayloadError(GradwiseError):
    """A request body the server cannot predict from (answered with HTTP 422)."""


@dataclass(frozen=True)
class Limits:
    """What one request may hold; larger requests are refused before any work is done."""

    max_rows: int = 10_000  # rows (or records) per request
    max_bytes: int = 8 * 1024 * 1024  # size of the request body


@dataclass(frozen=True)
class InputLayout:
    """What a run reads: a table's input columns in training order, or an array's shape."""

    columns: list[str] | None  # None: an array run (rows are flattened or nested examples)
    feature_shape: tuple[int, ...]
    numeric: frozenset[str] = frozenset()  # table columns that take numbers (or null)

    @property
    def width(self) -> int:
        """Values in one positional row: one per column, or one per array element."""
        if self.columns is not None:
            return len(self.columns)
        size = 1
        for dim in self.feature_shape:
            size *= dim
        return size

    def describe(self) -> str:
        if self.columns is None:
            return f"{self.width} numbers (an example of shape {list(self.feature_shape)})"
        shown = ", ".join(self.columns[:SHOWN_COLUMNS])
        more = " ..." if len(self.columns) > SHOWN_COLUMNS else ""
        return f"{len(self.columns)} values in the order {shown}{more}"


def parse_body(body: bytes, limits: Limits) -> dict[str, Any]:
    """The JSON object of a request body; PayloadError for an empty, oversize or non-JSON body."""
    if len(body) > limits.max_bytes:
        raise PayloadError(too_large(len(body), limits))
    if not body.strip():
        raise PayloadError(
            'empty body: expected JSON {"rows": [[...], ...]} or {"records": [{...}, ...]}'
        )
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8 text; send JSON") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(document, dict):
        raise PayloadError(
            f'expected a JSON object {{"rows": ...}} or {{"records": ...}}, got {_kind(document)}'
        )
    return document


def too_large(size: int, limits: Limits) -> str:
    return (
        f"the body is {size} bytes, over the limit of {limits.max_bytes} bytes "
        "(gradwise serve --max-bytes); send fewer rows per request"
    )


def _refuse_constant(name: str) -> Any:
    raise PayloadError(f"the body is not valid JSON: {name} is not a JSON number; use null")


def read_payload(document: dict[str, Any], layout: InputLayout, limits: Limits) -> Any:
    """The inputs a run's predict path takes: a DataFrame (tables) or nested lists (arrays)."""
    keys = [key for key in PAYLOAD_KEYS if key in document]
    unknown = [key for key in document if key not in PAYLOAD_KEYS]
    if unknown:
        raise PayloadError(
            f"unknown key(s) {', '.join(map(repr, unknown))} in the body; "
            "expected exactly one of 'rows' or 'records'"
        )
    if len(keys) != 1:
        raise PayloadError(
            "expected exactly one of 'rows' or 'records' in the body, "
            + ("got both" if keys else "got neither")
        )
    key = keys[0]
    entries = document[key]
    if not isinstance(entries, list):
        raise PayloadError(f"'{key}' must be a list, got {_kind(entries)}")
    if not entries:
        raise PayloadError(f"'{key}' is empty; send at least one row")
    if len(entries) > limits.max_rows:
        raise PayloadError(
            f"'{key}' holds {len(entries)} rows, over the limit of {limits.max_rows} "
            "(gradwise serve --max-rows); split the request"
        )
    return _records(entries, layout) if key == "records" else _rows(entries, layout)


def _rows(rows: list[Any], layout: InputLayout) -> Any:
    if layout.columns is None:
        for i, row in enumerate(rows):
            if not isinstance(row, list):
                raise PayloadError(f"rows[{i}] must be a list of numbers, got {_kind(row)}")
            _check_numbers(row, f"rows[{i}]")
        return rows  # the shape is checked by the run's preprocessing
    import pandas as pd

    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise PayloadError(f"rows[{i}] must be a list of {layout.describe()}, got {_kind(row)}")
        if len(row) != layout.width:
            raise PayloadError(
                f"rows[{i}] has {len(row)} values; this run takes {layout.describe()} "
                "(or send records keyed by column)"
            )
        for j, (name, cell) in enumerate(zip(layout.columns, row, strict=True)):
            _check_cell(cell, f"rows[{i}][{j}] ({name})", name in layout.numeric)
    return pd.DataFrame(rows, columns=layout.columns)


def _records(records: list[Any], layout: InputLayout) -> Any:
    if layout.columns is None:
        raise PayloadError(
            f"this run reads arrays, not named columns: send 'rows', each {layout.describe()}"
        )
    import pandas as pd

    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise PayloadError(
                f"records[{i}] must be an object of column: value, got {_kind(record)}"
            )
        missing = [name for name in layout.columns if name not in record]
        if missing:
            shown = ", ".join(map(repr, missing[:SHOWN_COLUMNS]))
            raise PayloadError(
                f"records[{i}] is missing column(s) {shown}"
                f"{' ...' if len(missing) > SHOWN_COLUMNS else ''} used in training "
                "(use null for a missing value)"
            )
        for name in layout.columns:
            _check_cell(record[name], f"records[{i}].{name}", name in layout.numeric)
    return pd.DataFrame.from_records(records, columns=layout.columns)


def _check_cell(cell: Any, where: str, numeric: bool) -> None:
    """A JSON scalar; a number or null where the column is numeric (JSON has number types, so
    text there is a mistake, not a number to parse as a CSV cell would be)."""
    if numeric and (
        isinstance(cell, (bool, str)) or not isinstance(cell, (int, float, type(None)))
    ):
        raise PayloadError(f"{where} must be a number or null, got {_kind(cell)}")
    if isinstance(cell, (list, dict)):
        raise PayloadError(f"{where} must be a number, text or null, got {_kind(cell)}")


def _check_numbers(values: list[Any], where: str) -> None:
    """Numbers, possibly nested (an image row as channels × height × width)."""
    for j, value in enumerate(values):
        if isinstance(value, list):
            _check_numbers(value, f"{where}[{j}]")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PayloadError(f"{where}[{j}] must be a number, got {_kind(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:17] + "..."
        return f"text {shown!r}"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)
