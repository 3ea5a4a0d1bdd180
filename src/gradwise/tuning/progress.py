"""The study's progress line on stderr: trials done/pruned/failed, best so far, ETA.

It reads the shared storage, so it counts the trials of every worker on every machine. Shown
only when stdout is a terminal and neither ``--quiet`` nor ``--json`` is given.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from optuna.trial import TrialState

from gradwise.training.progress import format_duration, progress_wanted


def best_trial(study: Any) -> Any:
    """The study's best complete trial (``FrozenTrial``), None before the first completes."""
    try:
        return study.best_trial
    except ValueError:  # no complete trial
        return None


STATE_NAMES = {  # as tune.json and the progress line name them
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "waiting",
}


def study_counts(study: Any) -> dict[str, int]:
    counts = dict.fromkeys(STATE_NAMES.values(), 0)
    for trial in study.get_trials(deepcopy=False):
        counts[STATE_NAMES[trial.state]] += 1
    return counts


class StudyProgress:
    """Redraws one line each time ``update`` is called (after a trial, or once a second)."""

    def __init__(
        self, study: Any, metric: str, total: int, quiet: bool, stream: TextIO | None = None
    ) -> None:
        self.study = study
        self.metric = metric
        self.total = total
        self.enabled = progress_wanted(quiet)
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.finished_at_start = self._finished(study_counts(study)) if self.enabled else 0
        self.width = 0

    @staticmethod
    def _finished(counts: dict[str, int]) -> int:
        return counts["complete"] + counts["pruned"] + counts["failed"]

    def line(self, counts: dict[str, int]) -> str:
        """``trials 12/40 · 7 complete · 4 pruned · 1 failed · best … · ETA 03:12``."""
        finished = self._finished(counts)
        done_here = finished - self.finished_at_start
        elapsed = time.monotonic() - self.started
        remaining = max(0, self.total - finished)
        eta = format_duration(elapsed / done_here * remaining) if done_here else "--:--"
        parts = [
            f"trials {finished}/{self.total}",
            f"{counts['complete']} complete",
            f"{counts['pruned']} pruned",
            f"{counts['failed']} failed",
        ]
        best = self._best()
        if best is not None:
            parts.append(f"best {self.metric} {best[1]:.4f} (#{best[0]})")
        parts.append(f"ETA {eta}")
        return " · ".join(parts)

    def _best(self) -> tuple[int, float] | None:
        trial = best_trial(self.study)
        return None if trial is None else (trial.number, float(trial.value))

    def update(self) -> None:
        if not self.enabled:
            return
        text = self.line(study_counts(self.study))
        self.stream.write("\r" + text.ljust(self.width))
        self.width = len(text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\n")
            self.stream.flush()
