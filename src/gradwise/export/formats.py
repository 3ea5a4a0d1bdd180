"""The export formats, registered by name (``gradwise export --format NAME``); torch-free.

Each format names the module that writes it (imported only when used), the packages it needs
and the extra that installs them, so a missing package is one line before any work is done.
A writer module provides ``write(module, example, path)`` (the model with a dynamic batch
dimension) and ``run(path, inputs) -> outputs`` (the written file run by its own runtime, for
the check that follows every export).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

from gradwise.errors import GradwiseError
from gradwise.registry import Registry


class ExportError(GradwiseError):
    """A run cannot be exported as asked (format, output path, missing extra, model)."""


@dataclass(frozen=True)
class ExportFormat:
    name: str
    suffix: str  # the usual file suffix
    writer: str  # module with write(module, example, path) and run(path, inputs)
    requires: tuple[str, ...] = ()  # importable packages the writer needs
    extra: str | None = None  # the gradwise extra that installs them
    description: str = ""

    def missing(self) -> list[str]:
        return [name for name in self.requires if importlib.util.find_spec(name) is None]

    def load_writer(self) -> ModuleType:
        """The writer module; a missing package is one line naming the extra."""
        missing = self.missing()
        if missing:
            raise ExportError(
                f"--format {self.name}: needs {', '.join(missing)}; install the "
                f"'{self.extra}' extra: pip install 'gradwise[{self.extra}]'"
            )
        return importlib.import_module(self.writer)


EXPORT_FORMATS: Registry[ExportFormat] = Registry("export format", key="--format")

for _format in (
    ExportFormat(
        "onnx",
        ".onnx",
        "gradwise.export.onnx_writer",
        requires=("onnx", "onnxruntime"),
        extra="export",
        description="ONNX graph (opset 17) for onnxruntime and other ONNX runtimes",
    ),
    ExportFormat(
        "torchscript",
        ".pt",
        "gradwise.export.torchscript_writer",
        description="TorchScript module for torch.jit.load (Python or C++ libtorch)",
    ),
):
    EXPORT_FORMATS.register(_format.name)(_format)
