"""``gradwise export RUN --format onnx|torchscript -o FILE``: a run's model for other runtimes.

Torch-free at import; the export itself imports torch (and onnx for ``--format onnx``).
"""

from __future__ import annotations

import argparse

from gradwise.cli.commands import _json_flag, command
from gradwise.cli.output import print_json


class _FormatNames:
    """``onnx | torchscript`` from the format registry, read when the help is printed."""

    def __str__(self) -> str:
        from gradwise.export.formats import EXPORT_FORMATS

        return " | ".join(EXPORT_FORMATS)


def _export_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory")
    fmt = parser.add_argument("--format", required=True, help="%(names)s")
    fmt.names = _FormatNames()  # type: ignore[attr-defined]  # argparse fills %(names)s
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="model file; its preprocessing is written beside it as FILE.preprocess.json",
    )
    _json_flag(parser, "what was written as one JSON document")


@command(
    "export", "export a run's model (ONNX or TorchScript) with its preprocessing", _export_args
)
def export(args: argparse.Namespace) -> int:
    from gradwise.export import export_run

    written = export_run(args.run, args.format, args.output)
    if args.json:
        print_json(written)
        return 0
    folded = ", ".join(written["folded_into_model"])
    print(f"{written['format']} model written to {written['output']} ({folded} inside)")
    print(f"preprocessing: {written['preprocessing']}")
    check = written["check"]
    print(f"checked on {check['rows']} rows: largest difference {check['max_abs_diff']:.2g}")
    return 0
