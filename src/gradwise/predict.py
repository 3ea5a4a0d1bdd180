"""``gradwise predict``: predictions (and class probabilities) for new rows, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gradwise._io import atomic_write
from gradwise.errors import DataError

WRITERS = {
    ".csv": lambda frame, path: frame.to_csv(path, index=False),
    ".parquet": lambda frame, path: frame.to_parquet(path, index=False),
}


def predictions_frame(run: Any, inputs: Any) -> pd.DataFrame:
    """``prediction`` column(s), plus ``proba_<class>`` columns when the task gives class
    probabilities."""
    outputs = run.outputs(inputs).numpy()  # a run that takes no input rows says so
    own = run.task.prediction_frame(outputs, run.preprocessor)  # e.g. one column per target
    if own is not None:
        return own
    decoded = run.preprocessor.decode_predictions(outputs)
    if decoded.ndim == 2:  # several regression targets
        targets = run.config.data.target
        names = (
            targets
            if isinstance(targets, list)
            else [f"prediction_{i}" for i in range(decoded.shape[1])]
        )
        frame = pd.DataFrame(decoded, columns=[f"prediction_{n}" for n in names])
    else:
        frame = pd.DataFrame({"prediction": decoded})
    classes = run.task.output_classes()
    if classes is not None:
        import torch

        probabilities = run.task.output_probabilities(torch.as_tensor(outputs))
        for k, label in enumerate(classes):
            frame[f"proba_{label}"] = probabilities[:, k].astype(np.float64)
    return frame


def write_predictions(
    run_dir: str | Path, input_path: str | Path, output_path: str | Path
) -> dict[str, Any]:
    from gradwise.api import Run

    output = Path(output_path)
    writer = WRITERS.get(output.suffix.lower())
    if writer is None:
        raise DataError(
            f"-o {output}: unsupported output type '{output.suffix}'; "
            f"use one of: {', '.join(WRITERS)}"
        )
    frame = predictions_frame(Run(run_dir), input_path)
    atomic_write(output, lambda tmp: writer(frame, tmp))
    return {"output": str(output), "rows": len(frame), "columns": list(frame.columns)}
