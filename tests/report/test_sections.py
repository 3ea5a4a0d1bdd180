"""Sections drawn from hand-written files in the shared formats; a section whose files are
absent is left out; unusable directories are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradwise.errors import CheckpointError
from gradwise.report import render_report, write_report
from gradwise.report.sections import ordered_sections
from tests.conftest import run_torch_free
from tests.report.fixtures import (
    COMPARE,
    DIAGNOSIS,
    decode_png,
    diagnostics_records,
    parse_page,
    table_with_header,
    write_comparison,
    write_jsonl,
    write_study,
)


def test_sections_are_registered_in_page_order():
    assert [key for key, _ in ordered_sections()] == [
        "experiment",
        "model",
        "transfer",
        "learning_curves",
        "generative_training",
        "reinforcement_learning",
        "results",
        "samples",
        "embeddings",
        "loss_weights",
        "diagnostics",
        "tuning",
        "comparison",
    ]


def diagnostics_dir(tmp_path: Path, with_diagnosis: bool = True) -> Path:
    write_jsonl(tmp_path / "diagnostics.jsonl", diagnostics_records())
    if with_diagnosis:
        (tmp_path / "diagnosis.json").write_text(json.dumps(DIAGNOSIS), encoding="utf-8")
    return tmp_path


def test_diagnostics_section_shows_findings_worst_first_with_remedies(tmp_path):
    text, sections = render_report([diagnostics_dir(tmp_path)])
    assert [s.key for s in sections] == ["diagnostics"]  # no config.yaml: no run sections
    page = parse_page(text)
    codes = [c for c in ("vanishing_gradients", "dead_units", "healthy") if c in text]
    assert sorted(codes, key=text.index) == ["vanishing_gradients", "dead_units", "healthy"]
    remedies = [
        row for rows in page.tables if rows[0][:2] == ["config key", "value"] for row in rows[1:]
    ]
    assert remedies[0][:2] == ["model.norm", "batch"]
    assert remedies[1][:2] == ["model.activation", "leaky_relu"]
    assert "&lt;scaled&gt;" in text  # finding text is escaped
    assert "--fix" in text
    assert len(page.images) == 2  # gradient flow + dead/saturated units
    for src, _ in page.images:
        assert decode_png(src).width > 0
    latest = table_with_header(page, "layer")
    assert [row[0] for row in latest[1:]] == ["body.0", "body.3", "head"]


def test_diagnostics_without_a_diagnosis_shows_statistics_only(tmp_path):
    text, _ = render_report([diagnostics_dir(tmp_path, with_diagnosis=False)])
    assert "Doctor's findings" not in text
    assert "Gradient flow" in parse_page(text).headings


def test_a_torn_last_diagnostics_line_is_ignored(tmp_path):
    folder = diagnostics_dir(tmp_path, with_diagnosis=False)
    with (folder / "diagnostics.jsonl").open("a") as stream:
        stream.write('{"step": 99, "epoch": 4, "lay')  # a run still writing
    text, _ = render_report([folder])
    assert "step 50, epoch 3" in text  # the last complete sample


def test_a_corrupt_diagnosis_file_is_named_in_the_section(tmp_path):
    folder = diagnostics_dir(tmp_path, with_diagnosis=False)
    (folder / "diagnosis.json").write_text("{not json", encoding="utf-8")
    text, sections = render_report([folder])
    assert [s.key for s in sections] == ["diagnostics"]
    assert "could not be drawn" in text and "diagnosis.json: not valid JSON" in text


def test_tuning_section_embeds_the_study_pictures_and_leaderboard(tmp_path):
    study = write_study(tmp_path / "study")
    result = write_report(study)
    assert result.path == study / "report.html" and result.sections == ["tuning"]
    page = parse_page(result.path.read_text(encoding="utf-8"))
    assert [decode_png(src).size for src, _ in page.images] == [(3, 2)] * 3
    board = table_with_header(page, "trial")
    assert [row[0] for row in board[1:]] == ["2", "0", "1", "3"]
    assert board[0][1] == "valid_accuracy"
    assert "Parameter importance" not in page.headings  # importances.png is shown instead
    text = result.path.read_text(encoding="utf-8")
    assert "gradwise train" in text and "best.yaml" in text


def test_tuning_without_pictures_lists_importances(tmp_path):
    study = write_study(tmp_path / "study", with_pngs=False)
    page = parse_page(render_report([study])[0])
    assert page.images == []
    importance = table_with_header(page, "parameter")
    assert [row[0] for row in importance[1:]] == ["train.optimizer.lr", "model.dropout"]


def test_comparison_section_marks_the_best_model_and_draws_size_curves(tmp_path):
    text, sections = render_report([write_comparison(tmp_path / "cmp")])
    assert [s.key for s in sections] == ["comparison"]
    assert COMPARE["verdict"] in text
    page = parse_page(text)
    models = table_with_header(page, "model")
    assert [row[0] for row in models[1:]] == ["logistic_regression", "mlp"]
    assert models[1][2] == "0.95 ± 0.02"
    assert '<tr class="best"><td>logistic_regression' in text  # accuracy: higher is better
    assert len(page.images) == 1 and decode_png(page.images[0][0]).size == (1100, 380)


def test_comparison_prefers_its_own_learning_curve_picture(tmp_path):
    page = parse_page(render_report([write_comparison(tmp_path / "cmp", with_png=True)])[0])
    assert [decode_png(src).size for src, _ in page.images] == [(3, 2)]


def test_an_empty_directory_has_nothing_to_report(tmp_path):
    with pytest.raises(CheckpointError, match="nothing to report"):
        write_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_a_missing_directory_is_a_one_line_error(tmp_path):
    with pytest.raises(CheckpointError, match="no such run"):
        write_report(tmp_path / "nope")


def test_output_that_is_a_folder_is_refused(tmp_path):
    study = write_study(tmp_path / "study")
    with pytest.raises(CheckpointError, match="is a folder"):
        write_report(study, tmp_path)


def test_reporting_a_study_does_not_import_torch(tmp_path):
    study = write_study(tmp_path / "study")
    result = run_torch_free(
        f"from gradwise.cli.main import main\nassert main(['report', {str(study)!r}]) == 0"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(study / "report.html")


def test_comparison_table_follows_the_stored_direction(tmp_path):
    # a metric whose name says nothing: compare.json's own higher_is_better decides the bold row
    folder = write_comparison(tmp_path / "cmp")
    document = {**COMPARE, "metric": "custom_score", "higher_is_better": False}
    (folder / "compare.json").write_text(json.dumps(document), encoding="utf-8")
    text = render_report([folder])[0]
    assert '<tr class="best"><td>mlp' in text  # 0.90 < 0.95: lower is better here
    document["higher_is_better"] = True
    (folder / "compare.json").write_text(json.dumps(document), encoding="utf-8")
    assert '<tr class="best"><td>logistic_regression' in render_report([folder])[0]


def _fake_run(folder: Path, test: dict, valid: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("task: classification\n", encoding="utf-8")
    (folder / "preprocess.json").write_text("{}", encoding="utf-8")
    summary = {"task": "classification", "main_metric": "accuracy", "test": test, "valid": valid}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_runs_side_by_side_survive_values_that_are_not_numbers(tmp_path):
    # NaN is written as null; a hand-edited or future summary may hold text
    first = _fake_run(tmp_path / "a", {"accuracy": None, "note": "<b>n/a</b>"}, {"nll": 0.52})
    second = _fake_run(tmp_path / "b", {"accuracy": 0.9, "note": 3}, {"nll": 0.41})
    text = render_report([first, second])[0]
    page = parse_page(text)
    metrics = {row[0]: row[1:] for row in table_with_header(page, "metric")[1:]}
    assert metrics == {
        "test accuracy": ["–", "0.9"],
        "test note": ["<b>n/a</b>", "3"],
        "valid nll": ["0.52", "0.41"],
    }
    assert "<b>n/a</b>" not in text  # escaped
    assert '<span class="best">0.41</span>' in text  # nll: lower is better
    runs = table_with_header(page, "run")
    assert [row[-1] for row in runs[1:]] == ["accuracy –", "accuracy 0.9"]


def test_every_generative_key_is_read_by_some_task():
    from gradwise.config.generative import TASK_KEYS, GenerativeConfig

    assert set().union(*TASK_KEYS.values()) == set(GenerativeConfig.model_fields)


@pytest.mark.parametrize(
    ("task", "section", "shown", "hidden"),
    [
        ("vae", "generative", "beta", "spectral_norm"),
        ("gan", "generative", "spectral_norm", "beta"),
        ("gan", "train", "batch_size", "label_smoothing"),  # a loss of its own
        ("rl", "train", "grad_clip", "batch_size"),  # no dataset, so no batches
        ("classification", "train", "label_smoothing", None),
    ],
)
def test_settings_tables_list_only_the_keys_the_task_reads(task, section, shown, hidden):
    from gradwise.config.generative import GenerativeConfig
    from gradwise.config.schema import TrainConfig
    from gradwise.report.run_sections import config_groups
    from gradwise.tasks import TASKS

    config = {
        "task": task,
        "train": TrainConfig().model_dump(),
        "generative": GenerativeConfig().model_dump(),
    }
    tables = dict(config_groups(config, TASKS.get(task).unread_keys()))
    keys = [key for key, _ in tables[section]]
    assert shown in keys and hidden not in keys
    if hidden is None:  # a supervised run reads every train key
        assert tables["train"] == dict(config_groups(config))["train"]
