"""The defects the reliability issue found, each pinned: a truncated checkpoint is one line with
exit status 2; SIGTERM leaves a resumable ``interrupted`` run; files follow the umask;
``valid + test = 0.95`` is accepted; a resume refuses changed training keys (listing them) and
says which safe keys changed."""

from __future__ import annotations

import json
import os
import signal
import stat
import warnings
from pathlib import Path

import pytest
import yaml

import gradwise
from gradwise.cli.main import main
from gradwise.errors import ConfigError
from gradwise.training import Callback
from tests.reliability.conftest import PARADIGMS, file_contents, one_line_error


@pytest.mark.parametrize("size", [0, 100])
def test_a_truncated_checkpoint_is_one_line_with_exit_status_two(
    trained_run: Path, paradigm: str, tmp_path: Path, capsys, size: int
):
    for weights in (trained_run / "checkpoints").glob("*.safetensors"):
        weights.write_bytes(weights.read_bytes()[:size])
    loading = PARADIGMS.get(paradigm).loads(trained_run, tmp_path)  # predict, sample, ...
    status = main(loading.argv)
    one_line_error(status, capsys.readouterr().err, "best.safetensors", "cannot load weights")
    assert loading.output is None or not loading.output.exists()


class SendSignal(Callback):
    def __init__(self, signum: int, step: int) -> None:
        self.signum, self.step = signum, step

    def on_batch_end(self, trainer, loss) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopping_signal_leaves_an_interrupted_resumable_run(
    tmp_path: Path, paradigm: str, signum: int
):
    case = PARADIGMS.get(paradigm)
    signalled = SendSignal(signum, case.epoch_2_step)  # within epoch 2
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(case.config(tmp_path), out=tmp_path / "runs", callbacks=[signalled])
    (run,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["epochs_run"] == 1
    resumed = gradwise.resume(run)
    assert resumed.summary["status"] == "completed" and resumed.summary["epochs_run"] == 4
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler was put back


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_every_file_of_a_run_follows_the_umask(tmp_path: Path, umask: int, mode: int):
    previous = os.umask(umask)
    try:
        config = PARADIGMS.get("regression").config(tmp_path)
        run = gradwise.train(config, out=tmp_path / "runs")
    finally:
        os.umask(previous)
    modes = {
        p.name: stat.S_IMODE(p.stat().st_mode)
        for p in run.path.rglob("*")
        if p.is_file() and p.name != "heartbeat"  # touched, not written: 0666 & ~umask too
    }
    assert modes and set(modes.values()) == {mode}, modes


def test_valid_plus_test_of_exactly_95_percent_is_accepted(tmp_path: Path):
    config = PARADIGMS.get("classification").config(tmp_path)
    config["data"] |= {"valid": 0.45, "test": 0.5}
    assert gradwise.load_config(config).data.valid == 0.45
    config["data"] |= {"valid": 0.46}
    with pytest.raises(ConfigError, match=r"must leave at least 5% for training, got 0\.96"):
        gradwise.load_config(config)


def test_a_resume_refuses_changed_training_keys_listing_them(trained_run: Path, capsys):
    before = file_contents(trained_run)
    overrides = ["train.optimizer.lr=0.5", "train.batch_size=8", "model.hidden=[4]", "seed=3"]
    argv = ["train", "--resume", str(trained_run)]
    status = main(argv + [arg for o in overrides for arg in ("--set", o)])
    line = one_line_error(status, capsys.readouterr().err)
    assert "cannot change model.hidden, seed, train.batch_size, train.optimizer.lr" in line
    assert file_contents(trained_run) == before


@pytest.mark.parametrize(
    "override",
    ["train.optimizer.name=sgd", "train.schedule.name=step", "data.source=other.csv", "task=x"],
)
def test_each_training_key_is_refused(trained_run: Path, override: str):
    with pytest.raises(ConfigError, match=r"cannot change|unknown task"):
        gradwise.resume(trained_run, overrides=[override])


def test_a_resume_says_which_accepted_keys_changed(trained_run: Path, capsys):
    summary = json.loads((trained_run / "summary.json").read_text())
    summary["status"] = "interrupted"  # as if stopped after its last epoch
    (trained_run / "summary.json").write_text(json.dumps(summary))
    argv = ["train", "--resume", str(trained_run), "--quiet"]
    with warnings.catch_warnings():  # each paradigm's lines, not only the first's (dedup)
        warnings.simplefilter("always")
        status = main([*argv, "--set", "train.epochs=5", "--set", "diagnose.every=7"])
    err = capsys.readouterr().err
    assert status == 0, err
    assert "resume: train.epochs changed from 4 to 5" in err
    assert "resume: diagnose.every changed from 50 to 7" in err
    saved = yaml.safe_load((trained_run / "config.yaml").read_text())
    assert saved["train"]["epochs"] == 5 and saved["diagnose"]["every"] == 7
    assert len((trained_run / "metrics.jsonl").read_text().splitlines()) == 5
