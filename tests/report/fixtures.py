"""Hand-written files in the shared formats (diagnostics.jsonl, diagnosis.json, tune.json,
compare.json) and a parser for the report's HTML."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image

LAYERS = [("body.0", "Linear"), ("body.3", "Linear"), ("head", "Linear")]
ACTIVATIONS = [("body.2", "ReLU"), ("body.5", "Tanh")]


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid grey PNG built by hand (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + bytes([128] * width) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def diagnostics_records(samples: int = 6, every: int = 10) -> list[dict[str, Any]]:
    """Samples where body.0's gradient shrinks tenfold per sample (vanishing) and body.2 dies."""
    records = []
    for s in range(samples):
        step = 1 if s == 0 else s * every
        layers = [
            {
                "name": name,
                "kind": kind,
                "grad_norm": (10.0**-s if name == "body.0" else 0.5),
                "weight_norm": 2.0 + s,
                "update_ratio": 1e-3,
            }
            for name, kind in LAYERS
        ]
        activations = [
            {
                "name": "body.2",
                "kind": "ReLU",
                "mean": 0.1,
                "std": 0.2,
                "dead_fraction": s / (samples - 1),
                "saturated_fraction": None,
            },
            {
                "name": "body.5",
                "kind": "Tanh",
                "mean": 0.0,
                "std": 0.9,
                "dead_fraction": None,
                "saturated_fraction": 0.25,
            },
        ]
        records.append(
            {"step": step, "epoch": 1 + s // 2, "layers": layers, "activations": activations}
        )
    return records


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


DIAGNOSIS = {
    "run": "fixture",
    "findings": [
        {
            "code": "healthy",
            "severity": "info",
            "message": "The head learns normally.",
            "evidence": {"layers": ["head"]},
            "remedies": [],
        },
        {
            "code": "vanishing_gradients",
            "severity": "error",
            "message": "Gradients of body.0 shrink by 1e5 over training.",
            "evidence": {"layer": "body.0", "ratio": 1e-5, "epochs": [1, 3]},
            "remedies": [
                {
                    "key": "model.norm",
                    "value": "batch",
                    "why": "Normalization keeps activations <scaled> so gradients flow.",
                }
            ],
        },
        {
            "code": "dead_units",
            "severity": "warning",
            "message": "Half the ReLU units are dead.",
            "evidence": {"layer": "body.2", "dead_fraction": 1.0},
            "remedies": [
                {
                    "key": "model.activation",
                    "value": "leaky_relu",
                    "why": "A small negative slope keeps units alive.",
                }
            ],
        },
    ],
}

TUNE = {
    "study": "iris-search",
    "metric": "valid_accuracy",
    "direction": "maximize",
    "counts": {"complete": 3, "pruned": 1, "failed": 0},
    "best": {
        "value": 0.97,
        "params": {"train.optimizer.lr": 0.003, "model.dropout": 0.1},
        "trial": 2,
        "run_dir": "study/trial-2",
    },
    "leaderboard": [
        {
            "trial": 2,
            "value": 0.97,
            "state": "complete",
            "epochs": 20,
            "params": {"train.optimizer.lr": 0.003, "model.dropout": 0.1},
        },
        {
            "trial": 0,
            "value": 0.91,
            "state": "complete",
            "epochs": 20,
            "params": {"train.optimizer.lr": 0.01, "model.dropout": 0.3},
        },
        {
            "trial": 1,
            "value": 0.88,
            "state": "complete",
            "epochs": 20,
            "params": {"train.optimizer.lr": 0.0001, "model.dropout": 0.0},
        },
        {
            "trial": 3,
            "value": None,
            "state": "pruned",
            "epochs": 4,
            "params": {"train.optimizer.lr": 0.5, "model.dropout": 0.2},
        },
    ],
    "importances": {"train.optimizer.lr": 0.8, "model.dropout": 0.2},
}

COMPARE = {
    "metric": "accuracy",
    "dataset": {"rows": 150, "features": 4, "samples_per_feature": 37.5},
    "models": [
        {
            "name": "logistic_regression",
            "family": "classical",
            "test": {"mean": 0.95, "std": 0.02, "values": [0.93, 0.97]},
            "train_score": 0.97,
            "gap": 0.02,
            "fit_time": 0.01,
            "predict_ms_per_1000": 0.2,
            "parameters": 15,
            "size_bytes": 900,
        },
        {
            "name": "mlp",
            "family": "deep",
            "test": {"mean": 0.9, "std": 0.04, "values": [0.86, 0.94]},
            "train_score": 0.99,
            "gap": 0.09,
            "fit_time": 2.5,
            "predict_ms_per_1000": 1.1,
            "parameters": 1200,
            "size_bytes": 6000,
        },
    ],
    "learning_curves": [
        {"model": m, "fraction": f, "n_train": int(100 * f), "mean": base + 0.05 * f, "std": 0.02}
        for m, base in (("logistic_regression", 0.88), ("mlp", 0.8))
        for f in (0.25, 0.5, 1.0)
    ],
    "verdict": "Classical models match deep learning here: logistic_regression is within noise.",
}


def write_study(folder: Path, with_pngs: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tune.json").write_text(json.dumps(TUNE), encoding="utf-8")
    (folder / "best.yaml").write_text("name: best\ntrain:\n  epochs: 20\n", encoding="utf-8")
    if with_pngs:
        for name in ("history.png", "parallel.png", "importances.png"):
            (folder / name).write_bytes(tiny_png())
    return folder


def write_comparison(folder: Path, with_png: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compare.json").write_text(json.dumps(COMPARE), encoding="utf-8")
    if with_png:
        (folder / "learning_curves.png").write_bytes(tiny_png())
    return folder


# ------------------------------------------------------------------------------- HTML parsing
@dataclass
class Page:
    sections: list[str] = field(default_factory=list)  # section ids, in order
    headings: list[str] = field(default_factory=list)  # h2/h3 text
    images: list[tuple[str, str]] = field(default_factory=list)  # (src, alt)
    links: list[str] = field(default_factory=list)  # every href/src/action value
    tags: set[str] = field(default_factory=set)
    tables: list[list[list[str]]] = field(default_factory=list)  # rows of cell text


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._heading: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.page.tags.add(tag)
        self.page.links += [v or "" for k, v in attrs if k in ("href", "src", "action", "srcset")]
        if tag == "section":
            self.page.sections.append(values.get("id") or "")
        elif tag == "img":
            self.page.images.append((values.get("src") or "", values.get("alt") or ""))
        elif tag in ("h2", "h3"):
            self._heading = []
        elif tag == "table":
            self.page.tables.append([])
        elif tag == "tr":
            self.page.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3") and self._heading is not None:
            self.page.headings.append("".join(self._heading).strip())
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.page.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        for sink in (self._heading, self._cell):
            if sink is not None:
                sink.append(data)


def parse_page(text: str) -> Page:
    parser = _Parser()
    parser.feed(text)
    return parser.page


def decode_png(src: str) -> Image.Image:
    """The image behind a ``data:image/png;base64,`` URI, fully decoded (fails if corrupt)."""
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:60]
    data = base64.b64decode(src[len(prefix) :], validate=True)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image


def table_with_header(page: Page, first_header: str) -> list[list[str]]:
    """The first table whose header row starts with ``first_header``."""
    for rows in page.tables:
        if rows and rows[0] and rows[0][0] == first_header:
            return rows
    raise AssertionError(f"no table starting with {first_header!r}")
