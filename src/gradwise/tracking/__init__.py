"""Experiment tracking: a run's metrics, hyperparameters, diagnostics summaries and report sent
to TensorBoard event files and/or MLflow (the ``track`` extra).

.. code-block:: yaml

    track:
      tensorboard: true            # or a folder: events in <folder>/<run dir name>/
      mlflow: sqlite:///mlflow.db  # or file:./mlruns, http://host:5000
      experiment: iris             # MLflow experiment (default: the config's name)

Plugged into every run through :mod:`gradwise.hooks` (listed in ``PLUGIN_MODULES``): a check
before the run directory is created (the extra is installed), a callback on rank 0
(:mod:`.callback`) and a hook after the report is written. This module imports neither
TensorBoard nor MLflow: a back-end is imported when a run asks for it (:mod:`.base`).
"""

from __future__ import annotations

from typing import Any

from gradwise.hooks import RUN_CALLBACKS, RUN_CHECKS, RUN_FINISHED
from gradwise.tracking.base import BACKENDS, Backend, Tracker, check_backends, requested

__all__ = ["BACKENDS", "Backend", "Tracker", "check_backends", "requested"]


@RUN_CHECKS.register("tracking")
def check_tracking(config: Any) -> None:
    """Before anything is written: the packages of every back-end ``track`` asks for."""
    check_backends(config.track)


@RUN_CALLBACKS.register("tracking")
def tracking_callback(config: Any, paths: Any, experiment: Any) -> Any:
    """The run's :class:`~.callback.TrackingCallback`, or None when it tracks nothing."""
    names = requested(config.track)
    if not names:
        return None
    check_backends(config.track)  # a resumed run is checked here
    from gradwise.tracking.callback import TrackingCallback

    trackers = {name: BACKENDS.get(name).create(config.track, paths, config) for name in names}
    return TrackingCallback(trackers, paths, config)


@RUN_FINISHED.register("tracking")
def finish_tracking(run: Any) -> None:
    if requested(run.config.track):
        from gradwise.tracking.callback import finish_tracking as finish

        finish(run)
