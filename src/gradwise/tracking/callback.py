"""The tracking callback: feeds a run's trackers from the training loop (rank 0 only).

- end of the first epoch: the hyperparameters (the flattened config), once the metric names
  are known (TensorBoard's hparams view lists them);
- end of every epoch: the epoch's metrics and learning rate, and the diagnostics summaries of
  the samples taken during the epoch (:mod:`.summaries`), at step = epoch;
- when the run is complete (``RUN_FINISHED``, after ``report.html`` is written): the test
  metrics, the report, and the tracked run is closed. A run that fails or is interrupted is
  closed with that status when the process exits.

A tracker that raises is dropped with one warning: tracking never costs the run itself.
"""

from __future__ import annotations

import atexit
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradwise.tracking.base import Tracker
from gradwise.tracking.summaries import (
    DiagnosticsTail,
    diagnostics_summary,
    epoch_metrics,
    hyperparameters,
)
from gradwise.training.callbacks import Callback

if TYPE_CHECKING:
    from gradwise.training.engine import Trainer

# run directory → its callback, from the start of training until the tracked run is closed
OPEN_RUNS: dict[Path, TrackingCallback] = {}


class TrackingCallback(Callback):
    main_process_only = True

    def __init__(self, trackers: dict[str, Tracker], paths: Any, config: Any) -> None:
        self.trackers = trackers
        self.paths = paths
        self.config = config
        self.diagnostics = DiagnosticsTail(paths.diagnostics)
        self.params_logged = False
        self.last_epoch = 0

    # ---------------------------------------------------------------------------- training
    def on_fit_start(self, trainer: Trainer) -> None:
        if trainer.epoch > 0:  # resumed: the earlier epochs are tracked already
            self.diagnostics.skip_existing()
        self._each("start", trainer.epoch + 1)
        OPEN_RUNS[self.paths.root.resolve()] = self
        _close_at_exit()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        metrics = epoch_metrics(logs)
        if not self.params_logged:
            self._each("log_params", hyperparameters(self.config), sorted(metrics))
            self.params_logged = True
        metrics |= diagnostics_summary(self.diagnostics.new_samples())
        self._each("log_metrics", metrics, epoch)
        self.last_epoch = epoch

    # --------------------------------------------------------------------------- the end
    def finish(self, summary: dict[str, Any], report: Path | None) -> None:
        """Final numbers (test metrics, best epoch), the report, and close with the status."""
        OPEN_RUNS.pop(self.paths.root.resolve(), None)
        step = summary.get("epochs_run") or self.last_epoch
        final = {f"test_{key}": value for key, value in (summary.get("test") or {}).items()}
        if summary.get("best_epoch") is not None:
            final["best_epoch"] = summary["best_epoch"]
        final = epoch_metrics(final)
        if final:
            self._each("log_metrics", final, step)
        if report is not None and report.is_file():
            self._each("log_report", report)
        self._each("finish", summary.get("status", "interrupted"))

    def _each(self, method: str, *args: Any) -> None:
        for name, tracker in list(self.trackers.items()):
            try:
                getattr(tracker, method)(*args)
            except Exception as exc:  # a tracking store that fails must not fail the run
                del self.trackers[name]
                first_line = str(exc).splitlines()[0] if str(exc) else ""
                warnings.warn(
                    f"track.{name}: {type(exc).__name__}: {first_line}; "
                    f"tracking to {name} stopped for {self.paths.root.name}",
                    stacklevel=2,
                )

    # --------------------------------------------------------------------------- resume
    def state_dict(self) -> dict[str, Any]:
        return {name: tracker.state_dict() for name, tracker in self.trackers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, tracker in self.trackers.items():
            tracker.load_state_dict(state.get(name, {}))
        self.params_logged = bool(state)  # a resumed run logged its parameters already


def finish_tracking(run: Any) -> None:
    """``RUN_FINISHED`` hook: close the tracked run of a completed ``run``."""
    callback = OPEN_RUNS.get(Path(run.path).resolve())
    if callback is not None:
        report = run.paths.report if run.config.report.enabled else None
        callback.finish(run.summary, report)


def close_open_runs() -> None:
    """At exit: close the tracked runs of runs that did not complete, with their status."""
    from gradwise.runs import read_summary

    for callback in list(OPEN_RUNS.values()):
        status = read_summary(callback.paths).get("status", "interrupted")
        callback.finish({"status": status if status != "running" else "interrupted"}, None)


_registered = False


def _close_at_exit() -> None:
    global _registered
    if not _registered:
        atexit.register(close_open_runs)
        _registered = True
