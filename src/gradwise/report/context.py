"""What a report reads: the files of one directory, each loaded once, on first use (torch-free).

A report is built from the directory's files (a run, a tuning study or a comparison), so it can
be written again at any time: ``gradwise report RUN``. Right after training, the
:class:`~gradwise.api.Run` already in memory is passed in and reused (its model and test split),
instead of being loaded a second time. Files that are
absent read as ``None`` (or ``[]`` for line files) and the sections that need them are left out.
Only :attr:`ReportContext.run` (the model, predictions) imports torch.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from gradwise._io import read_json, read_jsonl
from gradwise.errors import CheckpointError
from gradwise.runs import RunPaths
from gradwise.tasks import TASKS


class ReportContext:
    """The contents of one report directory, loaded lazily and cached."""

    def __init__(self, directory: str | Path, run: Any = None) -> None:
        self.root = Path(directory)
        if not self.root.is_dir():
            raise CheckpointError(f"{self.root}: no such run, study or comparison directory")
        self.paths = RunPaths(self.root)
        if run is not None:  # the Run of this directory, already loaded
            self.__dict__["run"] = run

    def __repr__(self) -> str:
        return f"ReportContext({str(self.root)!r})"

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def is_run(self) -> bool:
        return self.paths.config.is_file() and self.paths.preprocess.is_file()

    # ------------------------------------------------------------------------ run files
    @cached_property
    def config(self) -> dict[str, Any] | None:
        """The resolved experiment as plain data (``config.yaml``)."""
        if not self.paths.config.is_file():
            return None
        try:
            loaded = yaml.safe_load(self.paths.config.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problem = " ".join(str(exc).split())  # one line
            raise CheckpointError(f"{self.paths.config}: not valid YAML ({problem})") from None
        return loaded if isinstance(loaded, dict) else None

    @cached_property
    def summary(self) -> dict[str, Any]:
        return read_json(self.paths.summary, {})

    @cached_property
    def profile(self) -> dict[str, Any] | None:
        return read_json(self.root / "profile.json", None)

    @cached_property
    def metrics(self) -> list[dict[str, Any]]:
        return read_jsonl(self.paths.metrics)

    @cached_property
    def diagnostics(self) -> list[dict[str, Any]]:
        return read_jsonl(self.paths.diagnostics)

    @cached_property
    def diagnosis(self) -> dict[str, Any] | None:
        return read_json(self.root / "diagnosis.json", None)

    # ------------------------------------------------------------ study / comparison files
    @cached_property
    def tune(self) -> dict[str, Any] | None:
        return read_json(self.root / "tune.json", None)

    @cached_property
    def compare(self) -> dict[str, Any] | None:
        return read_json(self.root / "compare.json", None)

    # ------------------------------------------------------------------------ derived
    @property
    def task(self) -> str | None:
        return self.summary.get("task") or (self.config or {}).get("task")

    @property
    def paradigm(self) -> Any | None:
        """The task's paradigm class (:mod:`gradwise.tasks`); None when the task is unknown."""
        task = self.task
        return TASKS.get(task) if task is not None and task in TASKS else None

    @property
    def target_kind(self) -> str | None:
        """What the task learns from: "labels", "values"; None without targets or task."""
        return self.paradigm.target_kind if self.paradigm else None

    @property
    def main_metric(self) -> str | None:
        """The task's headline metric (``accuracy``, ``rmse``, ...)."""
        if self.summary.get("main_metric"):
            return self.summary["main_metric"]
        return self.paradigm.main_metric if self.paradigm else None

    @property
    def loss_name(self) -> str | None:
        """The training loss (``cross_entropy``, ``mse``, ...): the config's, else the task's
        default."""
        configured = ((self.config or {}).get("train") or {}).get("loss")
        return configured or (self.paradigm.default_loss if self.paradigm else None)

    @property
    def best_epoch(self) -> int | None:
        return self.summary.get("best_epoch")

    @cached_property
    def run(self) -> Any:
        """The run as :class:`gradwise.api.Run` (imports torch): its model and preprocessing."""
        from gradwise.api import Run

        return Run(self.root)
