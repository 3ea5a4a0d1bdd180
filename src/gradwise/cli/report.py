"""``gradwise report RUN [RUN ...] [-o FILE] [--json]``: write the HTML report, print its path.

Torch is imported only when a section needs the model (a run's model and results sections); a
study or comparison directory, or several runs compared, never import it.
"""

from __future__ import annotations

import argparse

from gradwise.cli.commands import _json_flag, command
from gradwise.cli.output import print_json


def _report_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="a run, study (tune.json) or comparison (compare.json) directory; several runs "
        "are compared on one page",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="HTML file to write (default: RUN/report.html; for several runs, "
        "runs-report.html beside them)",
    )
    _json_flag(parser)


@command("report", "write a self-contained HTML report of a run (or compare several)", _report_args)
def report(args: argparse.Namespace) -> int:
    from gradwise.report import write_report

    result = write_report(args.runs, args.output)
    if args.json:
        print_json({"report": result.path, "sections": result.sections, "runs": result.runs})
    else:
        print(result.path)
    return 0
