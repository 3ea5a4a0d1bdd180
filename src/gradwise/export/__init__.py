"""Export a run's trained model for other runtimes: ``gradwise export RUN --format onnx``.

The best checkpoint's model is written with a dynamic batch dimension, its input scaling and
its last prediction step folded in (:mod:`.wrapper`), and the rest of the preprocessing a
caller needs is written beside it as plain JSON (:mod:`.preprocessing`). Every export is
checked before it is kept: the written file, run by its own runtime on a batch of another
size than the one it was built with, must give gradwise's outputs. Torch-free at import.

>>> from gradwise.export import export_run
>>> export_run("runs/iris-20261130-101500", "onnx", "iris.onnx")["preprocessing"]
'iris.onnx.preprocess.json'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gradwise.export.formats import EXPORT_FORMATS, ExportError, ExportFormat

__all__ = ["EXPORT_FORMATS", "ExportError", "ExportFormat", "export_run", "preprocessing_path"]

BUILD_ROWS = 2  # the batch the model is traced with
CHECK_ROWS = 3  # the batch the written file is checked on (another size: the batch is dynamic)
CHECK_TOLERANCE = 1e-4  # × max(1, largest output): float32 kernels of two runtimes


def preprocessing_path(output: str | Path) -> Path:
    """Where the preprocessing JSON of ``output`` goes: ``model.onnx`` →
    ``model.onnx.preprocess.json`` (an ONNX and a TorchScript export can share a folder)."""
    output = Path(output)
    return output.with_name(f"{output.name}.preprocess.json")


def check_output(output: Path) -> None:
    """``-o`` must name a file in a folder this process can write into (created if absent)."""
    if output.is_dir():
        raise ExportError(f"-o {output}: is a folder; give a file path, e.g. {output / 'model'}")
    folder = output.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ExportError(f"-o {output}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"-o {output}: cannot write into {folder} (permission denied)")


def export_run(run_dir: str | Path, format_name: str, output: str | Path) -> dict[str, Any]:
    """Write the run's model as ``format_name`` to ``output`` and its preprocessing beside it;
    returns what was written (paths, input and output, the check's largest difference)."""
    export_format = EXPORT_FORMATS.get(format_name)
    output = Path(output)
    check_output(output)
    writer = export_format.load_writer()
    from gradwise.api import Run

    run = Run(run_dir)
    if run.preprocessor is None:
        raise ExportError(
            f"{run.path}: a {run.config.task} run takes no input rows; only models of "
            "inputs can be exported"
        )
    return _write(run, export_format, writer, output)


def _write(run: Any, export_format: ExportFormat, writer: Any, output: Path) -> dict[str, Any]:
    import numpy as np
    import torch

    from gradwise._io import atomic_write, atomic_write_json
    from gradwise.export.preprocessing import preprocessing_spec
    from gradwise.export.wrapper import exported_model, raw_examples

    module, described = exported_model(run)
    spec = preprocessing_spec(run, export_format.name, output.name, described)
    kind = run.config.model.kind
    example = raw_examples(run, BUILD_ROWS)
    inputs = raw_examples(run, CHECK_ROWS, seed=1)
    with torch.inference_mode():
        expected = module(inputs)
    if not isinstance(expected, torch.Tensor):
        raise ExportError(
            f"{run.path}: the {kind} model of this {run.config.task} run returns "
            f"{type(expected).__name__}, not one tensor; only single-output models are exported"
        )
    expected = expected.numpy()
    difference: list[float] = []

    def write_checked(path: Path) -> None:
        try:
            writer.write(module, example, path)
            found = writer.run(path, inputs.numpy())
        except Exception as exc:  # the exporter's own failure, as one line
            raise ExportError(
                f"--format {export_format.name}: the {kind} model of {run.path} could not be "
                f"exported: {_first_line(exc)}"
            ) from None
        gap = float(np.abs(found - expected).max()) if found.shape == expected.shape else np.inf
        if not gap <= CHECK_TOLERANCE * max(1.0, float(np.abs(expected).max())):
            raise ExportError(
                f"--format {export_format.name}: the exported {kind} model does not reproduce "
                f"gradwise's outputs on a batch of {CHECK_ROWS} rows (largest difference "
                f"{gap:.3g}, shape {found.shape} vs {expected.shape}); nothing was written"
            )
        difference.append(gap)

    try:
        atomic_write(output, write_checked)
    except OSError as exc:
        raise ExportError(f"-o {output}: cannot write ({exc.strerror or exc})") from None
    spec_path = preprocessing_path(output)
    try:
        atomic_write_json(spec_path, spec)
    except OSError as exc:
        output.unlink(missing_ok=True)
        raise ExportError(
            f"-o {output}: cannot write {spec_path} ({exc.strerror or exc})"
        ) from None
    return {
        "run": str(run.path),
        "format": export_format.name,
        "output": str(output),
        "preprocessing": str(spec_path),
        "input": spec["input"],
        "output_tensor": {k: v for k, v in described.items() if k != "folded"},
        "folded_into_model": spec["folded_into_model"],
        "check": {"rows": CHECK_ROWS, "max_abs_diff": difference[0]},
    }


def _first_line(exc: Exception, limit: int = 300) -> str:
    """An exception's first line, shortened: exporters' messages run to whole graphs."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."
