"""``model.init_from``: where the starting weights come from, and loading them by name and shape.

A source is a run directory (its ``best`` weights, else its ``last``; and its fitted
preprocessing) or a local ``.safetensors`` file. Nothing is downloaded and nothing executes:
safetensors is a plain tensor container.

Every tensor of the model's state dict (parameters and buffers, e.g. batch-norm statistics) is
loaded when the source holds a tensor of the same name and shape; otherwise it keeps its fresh
initialization — a classifier head whose class count differs is re-created this way. The
:class:`LoadReport` lists each tensor as ``loaded``, ``fresh`` (why: missing in the source, or
a shape mismatch) or, for source tensors the model has no place for, ``unused``.

With a run directory as source, the new data must give the same inputs (shape; for tables the
same input columns and encoded features). Array inputs (signals, images, array tables) are then
rescaled with the source run's scaling, so the pretrained layers see inputs as in pretraining
(:func:`adopt_inputs`); tables keep their encoding fitted on the new training split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gradwise.errors import CheckpointError, ConfigError, GradwiseError

KEY = "model.init_from"


@dataclass(frozen=True)
class Source:
    """A resolved ``model.init_from``: the weights file, and the run it belongs to."""

    spec: str  # as configured
    weights: Path
    run: Path | None = None  # the run directory, when the source is one
    preprocessing: Any | None = None  # its Preprocessor (None: a weights file, or no data)


@dataclass(frozen=True)
class TensorRow:
    name: str
    status: str  # loaded | fresh | unused
    shape: tuple[int, ...]  # this model's shape (the source's for unused tensors)
    reason: str = ""  # fresh/unused: why


@dataclass
class LoadReport:
    source: Source
    rows: list[TensorRow] = field(default_factory=list)
    inputs: str = ""  # what was done with the source's preprocessing

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "init_from": self.source.spec,
            "weights": str(self.source.weights),
            "inputs": self.inputs,
            "loaded": self.count("loaded"),
            "fresh": self.count("fresh"),
            "unused": self.count("unused"),
            "tensors": [
                {"name": r.name, "status": r.status, "shape": list(r.shape), "reason": r.reason}
                for r in self.rows
            ],
        }


def resolve_source(spec: str) -> Source:
    """``model.init_from`` as a :class:`Source`; a path that is neither a run directory nor a
    ``.safetensors`` file is a one-line :class:`ConfigError`."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return _run_source(spec, path)
    if not path.exists():
        raise ConfigError(f"{KEY}: {path}: no such run directory or .safetensors file")
    if path.suffix != ".safetensors":
        raise ConfigError(
            f"{KEY}: {path}: expected a run directory or a .safetensors file, got a "
            f"'{path.suffix or 'plain'}' file"
        )
    return Source(spec, path)


def _run_source(spec: str, path: Path) -> Source:
    from gradwise._io import read_json
    from gradwise.data.preprocess import Preprocessor
    from gradwise.runs import open_run

    try:
        paths = open_run(path)
    except CheckpointError as exc:
        raise ConfigError(f"{KEY}: {exc}") from None
    weights = next(
        (
            paths.checkpoints / f"{tag}.safetensors"
            for tag in ("best", "last")
            if (paths.checkpoints / f"{tag}.safetensors").is_file()
        ),
        None,
    )
    if weights is None:
        raise ConfigError(f"{KEY}: {path}: the run has no weights in checkpoints/ (best or last)")
    preprocessing = None
    if paths.preprocess.is_file():
        try:
            preprocessing = Preprocessor.from_dict(read_json(paths.preprocess))
        except GradwiseError as exc:
            raise ConfigError(f"{KEY}: {path}: {exc}") from None
    return Source(spec, weights, path, preprocessing)


def read_tensors(source: Source) -> dict[str, torch.Tensor]:
    """The source's tensors on the CPU (no code runs: safetensors holds plain tensors)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(source.weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{KEY}: {source.weights}: cannot read weights ({reason})") from None


def _shape_text(shape: tuple[int, ...]) -> str:
    return " × ".join(map(str, shape)) if shape else "scalar"


def load_matching(module: nn.Module, source: Source) -> LoadReport:
    """Copy into ``module`` every tensor of ``source`` with the same name and shape."""
    tensors = read_tensors(source)
    own = module.state_dict()
    rows: list[TensorRow] = []
    matched: dict[str, torch.Tensor] = {}
    for name, tensor in own.items():
        shape = tuple(tensor.shape)
        if name not in tensors:
            rows.append(TensorRow(name, "fresh", shape, "missing in source"))
            continue
        theirs = tuple(tensors[name].shape)
        if theirs != shape:
            reason = f"shape mismatch: source {_shape_text(theirs)}, re-created"
            rows.append(TensorRow(name, "fresh", shape, reason))
            continue
        matched[name] = tensors[name]
        rows.append(TensorRow(name, "loaded", shape))
    rows += [
        TensorRow(name, "unused", tuple(t.shape), "not in this model")
        for name, t in tensors.items()
        if name not in own
    ]
    if not matched:
        sample = ", ".join(list(tensors)[:3]) + (" ..." if len(tensors) > 3 else "")
        raise ConfigError(
            f"{KEY}: {source.weights}: no tensor matches this model by name and shape (the "
            f"source holds {sample or 'nothing'}); use weights of the same model kind"
        )
    with torch.no_grad():
        module.load_state_dict(matched, strict=False)
    return LoadReport(source, rows)


# ------------------------------------------------------------------------------ inputs
def check_inputs(source: Source, preprocessing: Any) -> None:
    """The new data's inputs must be the source run's: same shape, same input columns."""
    theirs = source.preprocessing
    if theirs is None or preprocessing is None:
        return
    where = f"{KEY}: {source.run}"
    if theirs.input_columns != preprocessing.input_columns:
        before, now = theirs.input_columns or [], preprocessing.input_columns or []
        missing = [c for c in before if c not in now]
        extra = [c for c in now if c not in before]
        detail = "; ".join(
            part
            for part in (
                f"missing here: {', '.join(missing)}" if missing else "",
                f"new here: {', '.join(extra)}" if extra else "",
            )
            if part
        ) or ("a different column order" if now and before else "a table and an array")
        raise ConfigError(f"{where} was trained on other input columns ({detail})")
    if tuple(theirs.feature_shape) != tuple(preprocessing.feature_shape):
        raise ConfigError(
            f"{where} was trained on inputs shaped {tuple(theirs.feature_shape)}, this data "
            f"gives {tuple(preprocessing.feature_shape)}; the weights need the same inputs"
        )


def adopt_inputs(source: Source, splits: Any) -> str:
    """Check the inputs (:func:`check_inputs`) and, for array inputs, rescale every split
    from the new scaling to the source run's (``x_src = (x·s_new + m_new − m_src) / s_src``)
    and keep that scaling in the run's preprocessing. Returns what was done, in words."""
    if source.preprocessing is None:
        return "weights file: inputs not checked"
    preprocessing = splits.preprocessor
    check_inputs(source, preprocessing)
    theirs = source.preprocessing
    if preprocessing.is_table or theirs.offset is None or preprocessing.offset is None:
        return "same input columns; table encoding fitted on this data"
    for name in ("x_train", "x_valid", "x_test"):  # in memory (streamed splits read through
        if hasattr(splits, name):  # the preprocessing, so changing it is enough)
            setattr(splits, name, _rescale(getattr(splits, name), preprocessing, theirs))
    preprocessing.offset, preprocessing.factor = list(theirs.offset), list(theirs.factor)
    preprocessing.scale = theirs.scale
    return f"same input shape; scaling of the source run ({theirs.scale}) reused"


def _rescale(x: np.ndarray, now: Any, then: Any) -> np.ndarray:
    if x.size == 0:
        return x
    shape = (1, -1) if x.ndim == 2 else (1, -1, *([1] * (x.ndim - 2)))  # per feature / channel

    def stat(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=np.float64).reshape(shape)

    raw = x * stat(now.factor) + stat(now.offset)
    return ((raw - stat(then.offset)) / stat(then.factor)).astype(np.float32)
