"""What is tracked, as plain numbers and strings (torch-free, library-free).

- **Hyperparameters**: the resolved config flattened to dotted keys (``train.optimizer.lr``),
  values as numbers, booleans or text (lists and nulls as their YAML-like text).
- **Epoch metrics**: every number in the epoch's logs (losses, metrics, ``lr``, timings).
- **Diagnostics summaries**: the samples ``diagnostics.jsonl`` gained during the epoch, reduced
  to one number per layer and statistic::

      grad_norm/<layer>     = mean over the epoch's samples of ‖∂L/∂W_layer‖
      grad_norm/total       = mean over samples of sqrt(Σ_layers ‖∂L/∂W_layer‖²)
      update_ratio/<layer>  = mean of ‖ΔW‖ / ‖W‖ per step
      dead_fraction/<act>, saturated_fraction/<act> = mean over samples (where defined)

  A statistic that was not finite in a sample (stored as null) is left out of its mean.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

LAYER_STATS = ("grad_norm", "update_ratio")
ACTIVATION_STATS = ("dead_fraction", "saturated_fraction")


def hyperparameters(config: Any) -> dict[str, bool | int | float | str]:
    """The flattened config (``model_dump`` of an :class:`ExperimentConfig`)."""
    from gradwise.config.load import flatten_config

    return {
        key: _param_value(value) for key, value in flatten_config(config.model_dump(mode="json"))
    }


def _param_value(value: Any) -> bool | int | float | str:
    if isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value)  # null, [] and {} as JSON text


def epoch_metrics(logs: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of an epoch's logs, without the epoch counter itself."""
    return {
        key: float(value)
        for key, value in logs.items()
        if key != "epoch"
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    }


class DiagnosticsTail:
    """Reads the lines ``diagnostics.jsonl`` gained since the last call (a partial last line
    waits for the next call)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def skip_existing(self) -> None:
        """Start after what the file holds now (a resumed run's earlier epochs)."""
        self.offset = self.path.stat().st_size if self.path.is_file() else 0

    def new_samples(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            data = stream.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        samples = []
        for line in complete.splitlines():
            try:
                samples.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a damaged line is the doctor's business, not the tracker's
        return samples


def diagnostics_summary(samples: list[dict[str, Any]]) -> dict[str, float]:
    """Per-layer and per-activation means over ``samples`` (module docstring)."""
    values: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        squares, complete = 0.0, True
        for layer in sample.get("layers", []):
            for stat in LAYER_STATS:
                _add(values, f"{stat}/{layer.get('name')}", layer.get(stat))
            norm = layer.get("grad_norm")
            complete = complete and _finite(norm)
            squares += norm * norm if _finite(norm) else 0.0
        if sample.get("layers") and complete:
            values["grad_norm/total"].append(math.sqrt(squares))
        for activation in sample.get("activations", []):
            for stat in ACTIVATION_STATS:
                _add(values, f"{stat}/{activation.get('name')}", activation.get(stat))
    return {key: sum(numbers) / len(numbers) for key, numbers in values.items()}


def _add(values: dict[str, list[float]], key: str, value: Any) -> None:
    if _finite(value):
        values[key].append(float(value))


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
