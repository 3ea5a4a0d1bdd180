"""One self-contained HTML page: inline CSS, images as base64 PNG data URIs, no script, no network.

A Content-Security-Policy in the page itself forbids every external load (``default-src
'none'``), so the page opens offline and a browser would refuse anything that tried to reach out.
"""

from __future__ import annotations

import base64
import html
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import gradwise

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONTENT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#d9dde5; --soft:#f4f6f9; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif;
  color:var(--ink); background:#fff; }
header { background:var(--soft); border-bottom:1px solid var(--line); padding:20px 32px 12px; }
header h1 { margin:0 0 4px; font-size:26px; }
header .subtitle { color:var(--muted); margin:0 0 10px; word-break:break-all; }
nav a { display:inline-block; margin:0 14px 4px 0; color:var(--accent); text-decoration:none;
  font-weight:600; }
main { max-width:1160px; margin:0 auto; padding:8px 32px 40px; }
section { border-bottom:1px solid var(--line); padding:10px 0 22px; }
h2 { font-size:21px; margin:18px 0 10px; }
h3 { font-size:16px; margin:16px 0 8px; color:#333a48; }
p { margin:6px 0 10px; }
.note { color:var(--muted); font-size:14px; }
.cards { display:flex; flex-wrap:wrap; gap:10px; margin:6px 0 14px; }
.card { background:var(--soft); border:1px solid var(--line); border-radius:6px;
  padding:6px 12px; min-width:96px; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .value { font-size:18px; font-weight:600; }
.row { display:flex; flex-wrap:wrap; gap:8px 28px; align-items:flex-start; }
.row > div { flex:0 1 auto; max-width:100%; }
.settings { display:flex; flex-wrap:wrap; gap:0 28px; align-items:flex-start; }
.settings > div { min-width:220px; }
.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(300px, 1fr)); gap:18px;
  align-items:start; }
table { border-collapse:collapse; margin:4px 0 12px; font-size:14px; }
th, td { border-bottom:1px solid var(--line); padding:4px 12px 4px 6px; text-align:left;
  vertical-align:top; }
th { background:var(--soft); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
tr.total td { font-weight:600; border-top:2px solid var(--line); }
td.best, span.best { font-weight:700; color:#005a8c; }
tr.best td { font-weight:700; background:#eef6fb; }
code, pre { font-family:"DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:13px; }
pre { background:var(--soft); border:1px solid var(--line); padding:10px; overflow:auto; }
img { max-width:100%; height:auto; display:block; margin:6px 0 14px; }
details summary { cursor:pointer; color:var(--accent); font-weight:600; margin:6px 0; }
.bar { display:inline-block; height:10px; background:#56B4E9; vertical-align:middle;
  margin-right:6px; }
.finding { border-left:5px solid var(--line); background:var(--soft); padding:8px 14px;
  margin:10px 0; border-radius:0 6px 6px 0; }
.finding.info { border-color:#0072B2; } .finding.warning { border-color:#E69F00; }
.finding.error { border-color:#D55E00; }
.badge { display:inline-block; font-size:12px; font-weight:700; text-transform:uppercase;
  padding:1px 8px; border-radius:10px; color:#fff; margin-right:8px; background:#0072B2; }
.badge.warning { background:#9a6700; } .badge.error { background:#b34700; }
.verdict { font-size:16px; background:#eef6fb; border:1px solid #b9d9ec; padding:10px 14px;
  border-radius:6px; }
footer { color:var(--muted); font-size:13px; text-align:center; padding:16px; }
"""


@dataclass(frozen=True)
class RenderedSection:
    """One section of the page: an anchor id, a heading and its HTML body."""

    key: str
    title: str
    body: str


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def format_value(value: Any, digits: int = 4) -> str:
    """Numbers to ``digits`` significant digits (integers whole), None as a dash, text escaped."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return escape(value)
        return f"{value:.{digits}g}" if abs(value) < 1e6 else f"{value:.3e}"
    if isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(", ", ": "), default=str)
        return escape(text if len(text) <= 160 else text[:159] + "…")
    return escape(value)


def image(png: bytes, alt: str) -> str:
    """An ``<img>`` holding the PNG as a data URI (so the page needs no other file)."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError(f"image {alt!r} is not a PNG")
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{escape(alt)}">'


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[bool] | None = None,
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table; cells are formatted with :func:`format_value` unless they are ``Raw``."""
    numeric = numeric or [False] * len(headers)
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if right else f"<th>{escape(h)}</th>"
        for h, right in zip(headers, numeric, strict=True)
    )
    lines = []
    for index, row in enumerate(rows):
        cells = "".join(
            f"<td{' class=num' if right else ''}>{_cell(value)}</td>"
            for value, right in zip(row, numeric, strict=True)
        )
        css = f' class="{row_classes[index]}"' if row_classes and row_classes[index] else ""
        lines.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


class Raw(str):
    """Cell content that is already HTML (not escaped again)."""


def _cell(value: Any) -> str:
    return str(value) if isinstance(value, Raw) else format_value(value)


def key_values(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of labelled values."""
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in pairs)
    return f"<table>{rows}</table>"


def cards(pairs: Iterable[tuple[str, Any]]) -> str:
    """Headline figures as a row of cards."""
    items = "".join(
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value">{_cell(value)}</div></div>'
        for label, value in pairs
    )
    return f'<div class="cards">{items}</div>'


def render_page(title: str, subtitle: str, sections: Sequence[RenderedSection]) -> str:
    """The whole document: header with a contents bar, the sections, a footer."""
    nav = "".join(f'<a href="#{escape(s.key)}">{escape(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{escape(s.key)}"><h2>{escape(s.title)}</h2>{s.body}</section>'
        for s in sections
    )
    made = time.strftime("%Y-%m-%d %H:%M")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · gradwise report</title><style>{CSS}</style></head>\n"
        f"<body><header><h1>{escape(title)}</h1>"
        f'<p class="subtitle">{escape(subtitle)}</p><nav>{nav}</nav></header>\n'
        f"<main>{body}</main>\n"
        f"<footer>gradwise {escape(gradwise.__version__)} · report written {made}</footer>"
        "</body></html>\n"
    )
