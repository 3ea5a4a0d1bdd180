"""One loaded run answering prediction requests: the model is built once, every request goes
through the run's own predict path (:func:`gradwise.predict.predictions_frame`, the code behind
``gradwise predict``), under ``torch.inference_mode()``.

Requests are served from a thread pool; a lock lets one pass at a time through the model (on a
CPU one forward pass already uses the cores it is given, and the preprocessing records its
warnings per pass). Requests that arrive while a pass runs wait in a queue, and the next pass
answers all of them at once (up to ``max_batch_rows`` rows): the cost of a pass is mostly fixed
(building the table, encoding it), so eight waiting one-row requests cost about what one does.
A batch whose preprocessing warns (imputed values) or fails (an unseen category) is answered
again request by request, so that each request gets its own warnings and errors.
"""

from __future__ import annotations

import threading
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

import gradwise
from gradwise._io import to_jsonable
from gradwise.errors import CheckpointError
from gradwise.serving import DEFAULT_BATCH_ROWS
from gradwise.serving.payload import InputLayout


class _Job:
    """One request waiting for its answer."""

    def __init__(self, inputs: Any) -> None:
        self.inputs = inputs
        self.rows = len(inputs)
        self.answer: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.done = False

    def finish(
        self, answer: dict[str, Any] | None = None, error: BaseException | None = None
    ) -> None:
        self.answer, self.error, self.done = answer, error, True


class Predictor:
    """A run's model and preprocessing, ready to answer ``/predict`` and ``/metadata``.

    ``max_batch_rows``: the most rows one pass answers for waiting requests together (0: one
    request per pass).
    """

    def __init__(self, run_dir: str | Path, max_batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        import torch

        from gradwise.api import Run

        self.run = Run(run_dir)
        preprocessor = self.run.preprocessor
        if preprocessor is None or preprocessor.target is None:
            raise CheckpointError(
                f"{self.run.path}: a {self.run.config.task} run makes no predictions from "
                "input rows; serve a classification or regression run"
            )
        self.preprocessor = preprocessor
        numeric = frozenset(
            spec["name"] for spec in preprocessor.columns or [] if spec["kind"] == "numeric"
        )
        self.layout = InputLayout(
            preprocessor.input_columns, tuple(preprocessor.feature_shape), numeric
        )
        self.max_batch_rows = max_batch_rows
        self.lock = threading.Lock()  # one pass through the model at a time
        self.queue: deque[_Job] = deque()
        self.queue_lock = threading.Lock()
        self._torch = torch
        self.run.model  # noqa: B018  # build and load the weights now, not on the first request

    def predict(self, inputs: Any) -> dict[str, Any]:
        """``predictions`` (labels or values; a list per row, named by ``columns``, when the run
        predicts several targets), and for classifiers ``probabilities`` (one row per input,
        columns in the order of ``classes``); ``warnings`` from the preprocessing.

        ``inputs``: what :func:`~gradwise.serving.payload.read_payload` gives (a DataFrame
        of a table run's columns, or an array run's rows)."""
        if self.max_batch_rows <= 0:
            with self.lock:
                return self._answer(inputs)
        job = _Job(inputs)
        with self.queue_lock:
            self.queue.append(job)
        with self.lock:
            while not job.done:  # a pass answers the waiting requests, ours among them
                self._answer_batch(self._take())
        if job.error is not None:
            raise job.error
        assert job.answer is not None
        return job.answer

    def _take(self) -> list[_Job]:
        """The oldest waiting requests, up to ``max_batch_rows`` rows (at least one)."""
        taken: list[_Job] = []
        rows = 0
        with self.queue_lock:
            while self.queue and (not taken or rows + self.queue[0].rows <= self.max_batch_rows):
                taken.append(self.queue.popleft())
                rows += taken[-1].rows
        return taken

    def _answer_batch(self, jobs: list[_Job]) -> None:
        if len(jobs) > 1:
            try:
                frame, caught = self._frame(_concatenate([job.inputs for job in jobs]))
            except Exception:  # one request's problem: each is answered on its own below
                frame, caught = None, ["failed"]
            if not caught:
                offset = 0
                for job in jobs:
                    job.finish(answer=self._answer_of(frame.iloc[offset : offset + job.rows], []))
                    offset += job.rows
                return
        for job in jobs:
            try:
                job.finish(answer=self._answer(job.inputs))
            except Exception as exc:  # raised again in the request's own thread
                job.finish(error=exc)

    def _answer(self, inputs: Any) -> dict[str, Any]:
        return self._answer_of(*self._frame(inputs))

    def _frame(self, inputs: Any) -> tuple[Any, list[str]]:
        """The predict path's table of predictions, and the warnings it gave (first lines)."""
        from gradwise.predict import predictions_frame

        with warnings.catch_warnings(record=True) as caught, self._torch.inference_mode():
            warnings.simplefilter("always")
            frame = predictions_frame(self.run, inputs)
        return frame, [str(w.message).splitlines()[0] for w in caught]

    def _answer_of(self, frame: Any, caught: list[str]) -> dict[str, Any]:
        classes = self.run.classes
        proba = [f"proba_{label}" for label in classes or []]
        values = [column for column in frame.columns if not column.startswith("proba_")]
        answer: dict[str, Any] = {}
        if values == ["prediction"]:
            answer["predictions"] = frame["prediction"].tolist()
        else:  # several targets: one list of values per row, in the order of `columns`
            answer["columns"] = values
            answer["predictions"] = frame[values].to_numpy().tolist()
        if classes is not None and all(column in frame for column in proba):
            answer["classes"] = classes
            answer["probabilities"] = frame[proba].to_numpy(np.float64).tolist()
        answer["warnings"] = caught
        return to_jsonable(answer)

    def metadata(self) -> dict[str, Any]:
        """What the model reads and returns, and where it came from."""
        run, preprocessor = self.run, self.preprocessor
        summary = run.summary
        if preprocessor.columns is not None:
            features = [
                {"name": spec["name"], "kind": spec["kind"]}
                | ({"categories": spec["categories"]} if spec["kind"] == "categorical" else {})
                for spec in preprocessor.columns
            ]
        else:
            features = [{"name": name, "kind": "numeric"} for name in preprocessor.feature_names]
        return to_jsonable(
            {
                "run": run.path.name,
                "name": run.config.name,
                "task": run.config.task,
                "model": run.config.model.kind,
                "input_kind": preprocessor.input_kind,
                "input_shape": list(preprocessor.feature_shape),
                "features": features,
                "targets": preprocessor.target.names,
                "classes": run.classes,
                "best_epoch": summary.get("best_epoch"),
                "test": summary.get("test"),
                "gradwise_version": gradwise.__version__,
            }
        )


def _concatenate(inputs: list[Any]) -> Any:
    """Several requests' inputs as one: tables stacked, array rows joined."""
    if isinstance(inputs[0], list):
        return [row for rows in inputs for row in rows]
    import pandas as pd

    return pd.concat(inputs, ignore_index=True)
