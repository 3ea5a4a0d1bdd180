"""What a lab is: a registered class that lists its arms as config overrides and reads the
finished runs into its result.

A lab answers one textbook question on the user's own experiment. Its **arms** are the
alternatives compared (an optimizer, a batch size, a regularizer), each a set of config overrides
(dotted key → value) applied on top of the experiment; every arm is trained as normal gradwise
runs (one per seed, and per learning rate where a lab sweeps it). Labs are registered by name::

    @LABS.register("optimizers")
    class OptimizerLab(Lab): ...

Torch-free: the labs import the engine's registries only when they list their arms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from gradwise.errors import ConfigError, did_you_mean
from gradwise.registry import Registry

if TYPE_CHECKING:
    from gradwise.lab.jobs import Job, JobResult
    from gradwise.lab.plan import LabPlan
    from gradwise.report.page import RenderedSection


@dataclass(frozen=True)
class Arm:
    """One alternative of a lab: a name (``--arms`` selects by it), a label for tables and
    legends, and the config overrides that make it."""

    name: str
    label: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""  # why the arm's settings are what they are, for the page


# runs a batch of jobs (in parallel workers) and returns their results, in order
RunJobs = Callable[[Sequence["Job"]], list["JobResult"]]


class Lab:
    """Base class of a lab: list the arms, run them, summarize, draw, describe.

    Subclasses set ``title`` and ``question`` and implement :meth:`arms` and :meth:`run`;
    :meth:`figures` and :meth:`sections` turn the document into PNGs and the page's sections.
    """

    title: ClassVar[str] = ""
    question: ClassVar[str] = ""

    def arms(self, plan: LabPlan) -> list[Arm]:
        """Every arm this lab compares on the experiment of ``plan``."""
        raise NotImplementedError

    def run(self, plan: LabPlan, arms: Sequence[Arm], run_jobs: RunJobs) -> dict[str, Any]:
        """Train the arms (through ``run_jobs``) and return the lab's part of ``lab.json``."""
        raise NotImplementedError

    def figures(self, document: Mapping[str, Any]) -> dict[str, bytes]:
        """PNG figures by file name."""
        return {}

    def sections(
        self, document: Mapping[str, Any], figures: Mapping[str, bytes]
    ) -> list[RenderedSection]:
        """The page's sections after the common header."""
        return []

    def table(self, document: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
        """The result table (headers, rows) the command line prints."""
        return [], []


LABS: Registry[type[Lab]] = Registry("lab")


def select_arms(arms: Sequence[Arm], names: Sequence[str] | None, lab: str) -> list[Arm]:
    """The arms named in ``names`` (``--arms``), in the lab's order; all when None."""
    if not names:
        return list(arms)
    known = {arm.name for arm in arms}
    for name in names:
        if name not in known:
            raise ConfigError(
                f"--arms: the {lab} lab has no arm '{name}'{did_you_mean(name, known)}; "
                f"choose from: {', '.join(arm.name for arm in arms)}"
            )
    return [arm for arm in arms if arm.name in names]
