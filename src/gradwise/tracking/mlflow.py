"""MLflow runs through ``mlflow.tracking.MlflowClient`` (no global "active run" state).

One MLflow run per gradwise run, named after the run directory, in the experiment
``track.experiment`` (default: the config's name). Parameters: the flattened config; metrics:
the epoch metrics and diagnostics summaries at step = epoch, then ``test_*``; artifacts:
``report.html`` and ``config.yaml``; tags: the run directory, task and model. The run id is
kept in the checkpoints, so a resumed run goes on logging into the same MLflow run.

Local stores: ``file:`` folders (MLflow 3 keeps its file store behind
``MLFLOW_ALLOW_FILE_STORE``, set here for a ``file:`` URI the config names) and SQLite
databases; a new experiment in a SQLite store keeps its artifacts in ``mlartifacts/`` beside
the database (MLflow would otherwise use the current folder).
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from gradwise.tracking.base import Tracker
from gradwise.tracking.uris import SQLITE_PREFIX, local_store_path

STATUSES = {"completed": "FINISHED", "failed": "FAILED"}  # anything else: KILLED
PARAMS_PER_BATCH, METRICS_PER_BATCH = 100, 1000  # MLflow's log_batch limits
NOT_IN_A_KEY = re.compile(r"[^\w\-. /]")  # MLflow keys: alphanumerics, _ - . space /


class MlflowTracker(Tracker):
    def __init__(
        self, uri: str, experiment: str, run_name: str, tags: dict[str, str], files: list[Path]
    ) -> None:
        self.uri = uri
        self.experiment = experiment
        self.run_name = run_name
        self.tags = tags
        self.files = files  # logged as artifacts when the run starts
        self.client: Any = None
        self.run_id: str | None = None

    def start(self, first_epoch: int) -> None:
        if self.uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        from mlflow.tracking import MlflowClient

        for name in ("mlflow", "alembic"):  # store set-up chatter (set after mlflow's own)
            logging.getLogger(name).setLevel(logging.WARNING)

        self.client = MlflowClient(tracking_uri=self.uri)
        if self.run_id is not None:  # resumed: the same MLflow run goes on
            self.client.update_run(self.run_id, status="RUNNING")
            return
        run = self.client.create_run(self._experiment_id(), run_name=self.run_name, tags=self.tags)
        self.run_id = run.info.run_id
        for path in self.files:
            if path.is_file():
                self.client.log_artifact(self.run_id, str(path))

    def _experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        location = None
        if self.uri.startswith(SQLITE_PREFIX):
            database = local_store_path(self.uri)
            location = (database.parent / "mlartifacts").as_uri()
        return self.client.create_experiment(self.experiment, artifact_location=location)

    def log_params(self, params: dict[str, Any], metric_names: list[str]) -> None:
        from mlflow.entities import Param

        entries = [Param(key, _text(value)) for key, value in params.items()]
        for start in range(0, len(entries), PARAMS_PER_BATCH):
            self.client.log_batch(self.run_id, params=entries[start : start + PARAMS_PER_BATCH])

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        entries = [Metric(_key(key), value, now, step) for key, value in metrics.items()]
        for start in range(0, len(entries), METRICS_PER_BATCH):
            self.client.log_batch(self.run_id, metrics=entries[start : start + METRICS_PER_BATCH])

    def log_report(self, path: Path) -> None:
        self.client.log_artifact(self.run_id, str(path))

    def finish(self, status: str) -> None:
        self.client.set_terminated(self.run_id, STATUSES.get(status, "KILLED"))

    def state_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id} if self.run_id else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.run_id = state.get("run_id")


def _key(name: str) -> str:
    return NOT_IN_A_KEY.sub("_", name)


def _text(value: Any) -> str:
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

    text = str(value)
    return text if len(text) <= MAX_PARAM_VAL_LENGTH else text[: MAX_PARAM_VAL_LENGTH - 3] + "..."


def create(track: Any, paths: Any, config: Any) -> MlflowTracker:
    tags = {
        "gradwise.run_dir": str(paths.root.resolve()),
        "gradwise.task": config.task,
        "gradwise.model": getattr(config.model, "kind", ""),
    }
    return MlflowTracker(
        track.mlflow, track.experiment or config.name, paths.root.name, tags, [paths.config]
    )
