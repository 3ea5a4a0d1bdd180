"""The generative findings on deliberately broken runs (written as files, so each case is exact
and instant) and on healthy ones, their remedies, and ``--fix`` on a really collapsed VAE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import gradwise
from gradwise.diagnose.doctor import diagnose
from gradwise.diagnose.fix import fix_run
from tests.generative.conftest import config


def write_run(
    folder: Path,
    task: str,
    metrics: list[dict[str, Any]],
    test: dict[str, Any],
    latent_kl: list[list[float]] | None = None,
    **sections: Any,
) -> Path:
    folder.mkdir()
    experiment = gradwise.load_config(config("sklearn:digits", task, **sections))
    (folder / "config.yaml").write_text(yaml.safe_dump(experiment.model_dump(mode="json")))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    summary = {"task": task, "status": "completed", "test": test, "best_epoch": len(metrics)}
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "preprocess.json").write_text("{}")
    if latent_kl is not None:
        rows = [{"epoch": i + 1, "kl_per_unit": kl} for i, kl in enumerate(latent_kl)]
        (folder / "latent_kl.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def vae_epochs(n: int) -> list[dict[str, Any]]:
    return [{"epoch": e, "train_loss": 80.0 - e, "valid_loss": 81.0 - e} for e in range(1, n + 1)]


def gan_epochs(accuracy: list[float], g_loss: list[float], spread: float = 0.9) -> list[dict]:
    return [
        {
            "epoch": e + 1,
            "train_loss": 1.4,
            "train_generator_loss": g,
            "valid_discriminator_accuracy": a,
            "valid_loss": 20.0,
            "valid_feature_variance_ratio": spread,
        }
        for e, (a, g) in enumerate(zip(accuracy, g_loss, strict=True))
    ]


HEALTHY_TEST = {"feature_variance_ratio": 0.9, "class_entropy_ratio": 0.98, "fd": 4.0}


def codes(tmp_path: Path, name: str, *args: Any, **kwargs: Any) -> list[str]:
    return diagnose(write_run(tmp_path / name, *args, **kwargs), write=False).codes


def test_posterior_collapse_is_most_units_without_information(tmp_path: Path):
    collapsed = [[0.001, 0.002, 0.0, 0.004, 2.1, 0.003, 0.0, 0.001]] * 3
    found = diagnose(
        write_run(
            tmp_path / "broken",
            "vae",
            vae_epochs(3),
            HEALTHY_TEST,
            collapsed,
            generative={"latent": 8, "beta": 4.0},
            model={"hidden": [64]},
        ),
        write=False,
    )
    (finding,) = [f for f in found.findings if f.code == "posterior_collapse"]
    assert finding.evidence["inactive_units"] == 7 and finding.evidence["latent_units"] == 8
    keys = {r.key: r.value for r in finding.remedies}
    assert keys["generative.beta"] == 1.0 and keys["generative.free_bits"] == 0.25
    assert "generative.kl_warmup_epochs" in keys and keys["model.hidden"] == [32]
    # a healthy VAE leaves a few surplus units off; that is no collapse
    healthy = [[0.9, 1.2, 0.001, 0.7, 2.1, 0.5, 0.002, 0.3]] * 3
    assert "posterior_collapse" not in codes(
        tmp_path, "healthy", "vae", vae_epochs(3), HEALTHY_TEST, healthy,
        generative={"latent": 8},
    )  # fmt: skip


def test_posterior_collapse_from_the_summary_when_the_per_unit_file_is_missing(tmp_path):
    test = {**HEALTHY_TEST, "active_units": 1.0, "latent": 16, "kl": 0.4}
    assert "posterior_collapse" in codes(tmp_path, "r", "vae", vae_epochs(3), test)


def test_mode_collapse_from_the_sample_spread(tmp_path: Path):
    narrow = {"feature_variance_ratio": 0.05, "class_entropy_ratio": 0.3, "fd": 300.0}
    found = diagnose(
        write_run(
            tmp_path / "gan",
            "gan",
            gan_epochs([0.7] * 8, [0.8] * 8),
            narrow,
            generative={"spectral_norm": False, "minibatch_std": False},
        ),
        write=False,
    )
    (finding,) = found.findings
    assert finding.code == "mode_collapse" and finding.evidence["fd"] == 300.0
    keys = {r.key for r in finding.remedies}
    assert {"generative.minibatch_std", "generative.spectral_norm"} <= keys
    # an interrupted run without a test summary: the last validation spread
    interrupted = gan_epochs([0.7] * 8, [0.8] * 8, spread=0.1)
    assert codes(tmp_path, "cut", "gan", interrupted, {}) == ["mode_collapse"]
    assert "mode_collapse" not in codes(
        tmp_path, "fine", "gan", gan_epochs([0.7] * 8, [0.8] * 8), HEALTHY_TEST
    )


def test_discriminator_overpowering_needs_both_a_perfect_d_and_a_climbing_g(tmp_path: Path):
    found = codes(
        tmp_path, "over", "gan", gan_epochs([0.8] * 4 + [0.99] * 4, [1.0] * 4 + [3.0] * 4),
        HEALTHY_TEST,
    )  # fmt: skip
    assert found == ["discriminator_overpowering"]
    # a perfect D while G's loss stays level, or a climbing G against a fooled D: neither
    assert codes(tmp_path, "level", "gan", gan_epochs([0.99] * 8, [1.0] * 8), HEALTHY_TEST) == [
        "healthy"
    ]
    assert codes(
        tmp_path, "fooled", "gan", gan_epochs([0.6] * 8, [1.0] * 4 + [3.0] * 4), HEALTHY_TEST
    ) == ["healthy"]


def test_mode_collapse_explained_by_an_overpowering_discriminator(tmp_path: Path):
    narrow = {"feature_variance_ratio": 0.05, "fd": 300.0}
    found = diagnose(
        write_run(tmp_path / "both", "gan",
                  gan_epochs([0.8] * 4 + [0.99] * 4, [1.0] * 4 + [3.0] * 4), narrow),
        write=False,
    )  # fmt: skip
    assert found.codes == ["discriminator_overpowering", "mode_collapse"]
    assert found.findings[1].caused_by == "discriminator_overpowering"
    assert {r.key for r in found.remedies()} == {"generative.gradient_penalty"}


def test_fix_lifts_a_posterior_collapsed_vae(digits_npz: Path, tmp_path: Path):
    broken = config(
        digits_npz,
        "vae",
        generative={"latent": 4, "beta": 30.0},
        train={"epochs": 10, "optimizer": {"lr": 0.003}},
    )
    run = gradwise.train(broken, out=tmp_path)
    assert "posterior_collapse" in diagnose(run.path).codes
    report = fix_run(run.path)
    assert report.metric == "elbo"
    assert {r.key for r in report.remedies} >= {"generative.beta", "generative.free_bits"}
    assert report.after.test > report.before.test and report.verdict == "better"
    assert "posterior_collapse" in report.resolved


@pytest.mark.parametrize("task", ["vae", "gan"])
def test_no_generative_finding_on_other_tasks(tmp_path: Path, task: str):
    other = "autoencoder"
    narrow = {"feature_variance_ratio": 0.01, "active_units": 0, "latent": 4}
    assert codes(tmp_path, task, other, vae_epochs(4), narrow) == ["healthy"]
