"""``gradwise init --task``, ``sample``, ``embed`` and ``runs``/``report``/``doctor`` on
generative runs, and the one-line errors of their bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import gradwise
from gradwise.cli.main import main
from tests.conftest import run_torch_free

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("task", ["vae", "gan", "autoencoder"])
def test_init_prints_a_recipe_that_loads(task: str, capsys):
    assert main(["init", "sklearn:digits", "--task", task]) == 0
    text = capsys.readouterr().out
    loaded = gradwise.load_config(yaml.safe_load(text))
    assert loaded.task == task and loaded.generative is not None
    assert loaded.data.target == "target"  # labels: conditioning and scoring only
    if task == "gan":
        optimizers = loaded.train.optimizers
        assert optimizers["discriminator"].lr > optimizers["generator"].lr  # two time scales
        assert optimizers["generator"].betas[0] == 0.5


def test_init_refuses_a_model_it_cannot_mirror(capsys):
    assert main(["init", "mnist1d", "--task", "vae", "--model", "rnn"]) == 2
    assert "task vae builds its networks from mlp, cnn1d, cnn2d" in capsys.readouterr().err


def test_generative_modules_and_commands_import_without_torch():
    result = run_torch_free(
        "import gradwise.tasks.generative, gradwise.diagnose.generative_findings\n"
        "from gradwise.cli.main import build_parser\nbuild_parser()"
    )
    assert result.returncode == 0, result.stderr


def test_sample_writes_a_reproducible_grid(trained: dict[str, Path], tmp_path: Path, capsys):
    for task in ("vae", "gan"):
        first, again, other = (tmp_path / f"{task}-{i}.png" for i in range(3))
        assert main(["sample", str(trained[task]), "-n", "16", "-o", str(first)]) == 0
        assert main(["sample", str(trained[task]), "-n", "16", "-o", str(again)]) == 0
        assert main(["sample", str(trained[task]), "-n", "16", "-o", str(other), "--seed", "3",
                     "--json"]) == 0  # fmt: skip
        assert first.read_bytes().startswith(PNG)
        assert first.read_bytes() == again.read_bytes() != other.read_bytes()


def test_sample_json_says_what_was_written(trained: dict[str, Path], tmp_path: Path, capsys):
    out = tmp_path / "s.png"
    assert main(["sample", str(trained["gan"]), "-n", "9", "-o", str(out), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written == {
        "run": str(trained["gan"]),
        "output": str(out),
        "samples": 9,
        "seed": 0,
        "shape": [1, 8, 8],
        "conditional": False,
    }


def test_samples_of_a_table_are_a_csv_in_original_units(table_vae: Path, tmp_path: Path):
    out = tmp_path / "rows.csv"
    assert main(["sample", str(table_vae), "-n", "20", "-o", str(out)]) == 0
    frame = pd.read_csv(out)
    assert len(frame) == 20 and all(c.startswith("p") for c in frame.columns)
    assert frame.to_numpy().mean() == pytest.approx(0.3, abs=0.2)  # pixels in [0, 1] units


def test_embed_writes_codes_and_clusters_them(trained: dict[str, Path], tmp_path: Path, capsys):
    out = tmp_path / "emb.npy"
    assert main(["embed", str(trained["vae"]), "-o", str(out), "--clusters", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    codes = np.load(out)
    assert codes.shape == (result["rows"], 4) == (60, 4)
    clustering = result["clustering"]
    assert clustering["k"] == 3 and sum(clustering["cluster_sizes"]) == 60
    assert -1 <= clustering["ari"] <= 1 and len(result["assignments"]) == 60
    assert main(["embed", str(trained["autoencoder"]), "-o", str(out)]) == 0
    assert "against the labels: ARI" in capsys.readouterr().out


def test_embed_reads_new_rows_of_a_table(table_vae: Path, unlabelled_csv: Path, tmp_path: Path):
    out = tmp_path / "emb.npy"
    assert main(["embed", str(table_vae), str(unlabelled_csv), "-o", str(out)]) == 0
    assert np.load(out).shape == (200, 4)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["sample", "{gan}", "-o", "{tmp}/s.csv"], "samples of image data are written as .png"),
        (["sample", "{gan}", "-n", "0", "-o", "{tmp}/s.png"], "-n: expected a number of samp"),
        (["sample", "{autoencoder}", "-o", "{tmp}/s.png"], "an autoencoder run cannot sample"),
        (["embed", "{gan}", "-o", "{tmp}/e.npy"], "a gan run cannot embed"),
        (["embed", "{vae}", "-o", "{tmp}/e.csv"], "embeddings are written as .npy"),
        (["embed", "{vae}", "-o", "{tmp}/e.npy", "--clusters", "1"], "--clusters: expected at"),
        (["sample", "{tmp}/nothing", "-o", "{tmp}/s.png"], "nothing"),
    ],
)
def test_bad_sample_and_embed_inputs_are_one_line_and_write_nothing(
    trained: dict[str, Path], tmp_path: Path, capsys, command, message
):
    argv = [part.format(tmp=tmp_path, **trained) for part in command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".png", ".csv", ".npy")]


def test_runs_report_and_doctor_open_generative_runs(trained: dict[str, Path], capsys):
    folder = trained["vae"].parent
    assert main(["runs", "--dir", str(folder), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["task"] == "vae"
    for task in ("vae", "gan", "autoencoder"):
        assert main(["report", str(trained[task])]) == 0
        assert capsys.readouterr().out.strip() == str(trained[task] / "report.html")
        html = (trained[task] / "report.html").read_text()
        assert "could not be drawn" not in html
        if task != "autoencoder":
            assert "Samples and their quality" in html and "Gaussian mixture" in html
        if task != "gan":
            assert "Embeddings" in html and "PCA + k-means" in html
        assert main(["doctor", str(trained[task]), "--json"]) == 0
        diagnosis = json.loads(capsys.readouterr().out)
        assert diagnosis["findings"]


def test_evaluate_of_a_generative_run_is_one_line(trained: dict[str, Path], capsys):
    assert main(["evaluate", str(trained["vae"])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a vae run predicts no targets" in err
