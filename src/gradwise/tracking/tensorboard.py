"""TensorBoard event files through ``torch.utils.tensorboard.SummaryWriter``.

``track.tensorboard: true`` writes into ``<run dir>/tensorboard/``; a folder writes into
``<folder>/<run dir name>/``, so that ``tensorboard --logdir <folder>`` shows runs side by side.
Scalars are tagged as in ``metrics.jsonl`` (``train_loss``, ``valid_accuracy``, ``lr``) and the
diagnostics summaries as ``grad_norm/<layer>``; the hyperparameters go to the HParams view (in
the same event file, not a sub-run), the config as text. TensorBoard stores no files: the
report is recorded as a text entry with its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradwise.tracking.base import Tracker


class TensorBoardTracker(Tracker):
    def __init__(self, log_dir: Path, config_text: str) -> None:
        self.log_dir = log_dir
        self.config_text = config_text
        self.writer: Any = None

    def start(self, first_epoch: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        # a resumed run drops the events of epochs it trains again (purge_step)
        purge = first_epoch if first_epoch > 1 else None
        self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=purge)

    def log_params(self, params: dict[str, Any], metric_names: list[str]) -> None:
        from torch.utils.tensorboard.summary import hparams

        experiment, session_start, session_end = hparams(params, dict.fromkeys(metric_names, 0.0))
        file_writer = self.writer._get_file_writer()
        for summary in (experiment, session_start, session_end):
            file_writer.add_summary(summary)
        indented = "\n".join(f"    {line}" for line in self.config_text.splitlines())
        self.writer.add_text("config", indented, global_step=0)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, global_step=step)
        self.writer.flush()  # readable while training (and after a crash)

    def log_report(self, path: Path) -> None:
        self.writer.add_text("report", f"report.html: {path}", global_step=0)

    def finish(self, status: str) -> None:
        self.writer.add_text("status", status, global_step=0)
        self.writer.close()


def create(track: Any, paths: Any, config: Any) -> TensorBoardTracker:
    from gradwise.config import dump_config

    folder = track.tensorboard
    log_dir = paths.root / "tensorboard" if folder is True else Path(folder) / paths.root.name
    return TensorBoardTracker(log_dir, dump_config(config))
