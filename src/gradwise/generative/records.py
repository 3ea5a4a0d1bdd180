"""``latent_kl.jsonl``: one line per epoch with a paradigm's per-epoch record (a VAE's KL per
latent unit on the validation split), kept in step with ``metrics.jsonl`` on resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gradwise._io import to_jsonable
from gradwise.training.callbacks import Callback, truncate_jsonl


class EpochRecords(Callback):
    main_process_only = True

    def __init__(self, path: Path, paradigm: Any) -> None:
        self.path = path
        self.paradigm = paradigm

    def on_fit_start(self, trainer: Any) -> None:
        if self.path.exists():  # a resumed run: drop epochs after the checkpoint
            truncate_jsonl(self.path, trainer.epoch)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        record = self.paradigm.epoch_record()
        if record is None:
            return
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(to_jsonable({"epoch": epoch, **record})) + "\n")
