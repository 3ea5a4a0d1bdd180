"""The report's sections, built by name and rendered in order.

Each section is a renderer ``(context) -> html | None``; ``None`` means "nothing to show here"
(its input files are absent) and the section is left out of the page. A feature adds its section
by registering a renderer in its own module and listing that module in ``SECTION_MODULES``::

    @section("tuning", "Hyperparameter tuning", order=60)
    def tuning(context: ReportContext) -> str | None:
        if context.tune is None:
            return None
        ...

``order`` places the section on the page (experiment 10, model 20, learning curves 30,
results 40, diagnostics 50, tuning 60, comparison 70).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from gradwise.errors import GradwiseError
from gradwise.registry import Registry
from gradwise.report.context import ReportContext
from gradwise.report.page import RenderedSection, escape

Renderer = Callable[[ReportContext], "str | None"]


@dataclass(frozen=True)
class Section:
    title: str  # the heading on the page
    order: int  # position on the page, smallest first
    render: Renderer


SECTIONS: Registry[Section] = Registry("report section")

# Modules whose import registers section renderers.
SECTION_MODULES: tuple[str, ...] = (
    "gradwise.report.run_sections",
    "gradwise.report.model_summary",
    "gradwise.report.results",
    "gradwise.report.diagnostics",
    "gradwise.report.study_sections",
    "gradwise.report.rl_sections",
    "gradwise.report.generative_sections",
    "gradwise.report.transfer_sections",
    "gradwise.report.multitask_sections",
)


def section(key: str, title: str, order: int) -> Callable[[Renderer], Renderer]:
    """Decorator registering a renderer as the section ``key``."""

    def register(render: Renderer) -> Renderer:
        SECTIONS.register(key)(Section(title, order, render))
        return render

    return register


def ordered_sections() -> list[tuple[str, Section]]:
    """Every registered section as ``(key, section)``, in page order."""
    for module in SECTION_MODULES:
        importlib.import_module(module)
    return sorted(((key, SECTIONS.get(key)) for key in SECTIONS), key=lambda kv: kv[1].order)


def render_sections(context: ReportContext) -> list[RenderedSection]:
    """The sections that have something to show for ``context``, in page order.

    A section whose input exists but cannot be used (a checkpoint or data file gone, say) shows
    that one-line reason instead of failing the whole page.
    """
    rendered = []
    for key, entry in ordered_sections():
        try:
            body = entry.render(context)
        except GradwiseError as exc:
            body = f'<p class="note">This section could not be drawn: {escape(exc)}</p>'
        if body is not None:
            rendered.append(RenderedSection(key, entry.title, body))
    return rendered
