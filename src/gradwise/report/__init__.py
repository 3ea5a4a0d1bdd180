"""The report: one self-contained HTML page per run (or per study, comparison, or set of runs).

>>> from gradwise.report import write_report
>>> write_report("runs/exp-20261123-101500").path          # runs/exp-.../report.html
>>> write_report(["runs/a", "runs/b"], "a-vs-b.html")     # learning curves overlaid

The page is built from the directory's files (a run just trained is reused, not loaded again),
is one file with inline CSS and images as data URIs, and loads nothing from anywhere. Only the
model and results sections import torch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradwise._io import atomic_write_text
from gradwise.errors import CheckpointError
from gradwise.report.context import ReportContext
from gradwise.report.page import RenderedSection, render_page
from gradwise.runs import RunPaths

MULTI_RUN_FILE = "runs-report.html"

__all__ = ["ReportContext", "ReportResult", "render_report", "write_report"]


@dataclass(frozen=True)
class ReportResult:
    path: Path  # the HTML file written
    sections: list[str] = field(default_factory=list)  # section keys, in page order
    runs: list[str] = field(default_factory=list)  # the directories reported on


def _single_title(context: ReportContext) -> tuple[str, str]:
    summary = context.summary
    details = [str(context.root)]
    details += [str(summary[k]) for k in ("task", "model", "status") if summary.get(k)]
    if context.tune is not None:
        details.append("tuning study")
    if context.compare is not None:
        details.append("deep learning vs classical baselines")
    title = summary.get("name") or (context.tune or {}).get("study") or context.name
    return str(title), " · ".join(details)


def render_report(
    directories: Sequence[str | Path], run: Any = None
) -> tuple[str, list[RenderedSection]]:
    """The page's HTML and its sections: one directory's report, or several runs compared.
    ``run``: the :class:`~gradwise.api.Run` of a single directory, when already in memory."""
    from gradwise.report.compare_runs import comparison_sections
    from gradwise.report.sections import render_sections

    if not directories:
        raise CheckpointError("report: give at least one run directory")
    contexts = [ReportContext(d, run if len(directories) == 1 else None) for d in directories]
    if len(contexts) == 1:
        context = contexts[0]
        sections = render_sections(context)
        if not sections:
            raise CheckpointError(
                f"{context.root}: nothing to report (not a run, study or comparison directory: "
                "no config.yaml, tune.json or compare.json)"
            )
        title, subtitle = _single_title(context)
    else:
        sections = comparison_sections(contexts)
        title = f"{len(contexts)} runs compared"
        subtitle = " · ".join(c.name for c in contexts)
    return render_page(title, subtitle, sections), sections


def default_output(directories: Sequence[str | Path]) -> Path:
    """``RUN/report.html`` for one directory; for several, ``runs-report.html`` in the folder
    that holds them all."""
    if len(directories) == 1:
        return RunPaths(Path(directories[0])).report
    parents = [str(Path(d).resolve().parent) for d in directories]
    return Path(os.path.commonpath(parents)) / MULTI_RUN_FILE


def write_report(
    directories: str | Path | Sequence[str | Path],
    output: str | Path | None = None,
    run: Any = None,
) -> ReportResult:
    """Render and write the report (atomically); ``output`` defaults to :func:`default_output`.
    ``run``: the :class:`~gradwise.api.Run` of a single directory, when already in memory."""
    if isinstance(directories, (str, Path)):
        directories = [directories]
    path = Path(output) if output is not None else default_output(directories)
    if path.is_dir():
        raise CheckpointError(f"-o {path}: is a folder; give a file name such as report.html")
    page, sections = render_report(directories, run)
    atomic_write_text(path, page)
    return ReportResult(path, [s.key for s in sections], [str(d) for d in directories])
