"""One message template for every validation error, and config modules without import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gradwise.config
from gradwise.augment.options import parse_augment_entry, parse_sampling
from gradwise.config import load_config
from gradwise.config.errors import format_validation_error
from gradwise.config.models import MODEL_CONFIGS
from gradwise.errors import ConfigError

BASE = {"data": {"source": "x"}}


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        # the experiment itself
        (
            {**BASE, "train": {"optimizer": {"lr": -0.1}}},
            "config: train.optimizer.lr: must be greater than 0, got -0.1",
        ),
        (
            {**BASE, "train": {"early_stopping": {"patiense": 3}}},
            "config: train.early_stopping.patiense: unknown key (did you mean 'patience'?); "
            "valid keys here: patience, monitor, mode, min_delta",
        ),
        ({"data": {}}, "config: data.source: missing required key"),
        (
            {**BASE, "model": {"kind": "rnn", "cell": "lstn"}},
            "config: model.cell: must be 'rnn', 'lstm' or 'gru', got 'lstn' (did you mean 'lstm'?)",
        ),
        # an entry of compare.models, validated against the model union on its own
        (
            {**BASE, "compare": {"models": [{}, {"kind": "mlp", "hiden": [4]}]}},
            "config: compare.models.1.hiden: unknown key (did you mean 'hidden'?); "
            "valid keys here: activation, norm, dropout, init, init_from, freeze, kind, hidden, "
            "numeric_embedding, clip",
        ),
        (
            {**BASE, "compare": {"models": [{"hidden": [0]}]}},
            "config: compare.models.0.hidden.0: must be greater than or equal to 1, got 0",
        ),
        (
            {**BASE, "compare": {"models": [{"kind": "cnn3d"}]}},
            "config: compare.models.0.kind: must be 'mlp', 'cnn1d', 'cnn2d', 'rnn' or "
            "'transformer', got 'cnn3d' (did you mean 'cnn2d'?)",
        ),
        # an entry of tune.space, whose key has dots in it
        (
            {**BASE, "tune": {"space": {"model.dropout": {"type": "flot", "low": 0, "high": 1}}}},
            "config: tune.space.model.dropout.type: must be 'float', 'int', 'categorical' or "
            "'layers', got 'flot' (did you mean 'float'?)",
        ),
        (
            {**BASE, "tune": {"space": {"model.dropout": {"type": "float", "low": 0.1}}}},
            "config: tune.space.model.dropout: type float needs low and high",
        ),
        (
            {
                **BASE,
                "tune": {
                    "space": {"model.hidden": {"layers": {"lo": 1, "high": 2}, "width": {"low": 4}}}
                },
            },
            "config: tune.space.model.hidden.layers.lo: unknown key (did you mean 'low'?); "
            "valid keys here: type, low, high, log, step, choices, layers, width",
        ),
        # data.options, against the options of the source
        (
            {"data": {"source": "synthetic:moons", "options": {"noize": 0.1}}},
            "config: data.options.noize: unknown key (did you mean 'noise'?); "
            "valid keys here: scale_target, n_samples, noise",
        ),
    ],
)
def test_every_section_reports_one_line_in_the_same_form(raw: dict, line: str):
    with pytest.raises(ConfigError) as caught:
        load_config(raw)
    assert str(caught.value) == line


def test_option_tables_report_in_the_same_form():
    with pytest.raises(ConfigError) as caught:
        parse_augment_entry(2, {"shift": {"mode": "wrap"}})
    assert str(caught.value) == (
        "data.augment[2].shift.mode: must be 'circular' or 'zeros', got 'wrap'"
    )
    with pytest.raises(ConfigError) as caught:
        parse_sampling({"name": "smote", "k_neighbours": 3})
    assert str(caught.value) == (
        "data.sampling.smote.k_neighbours: unknown key (did you mean 'k_neighbors'?); "
        "valid keys here: ratio, k_neighbors"
    )
    with pytest.raises(ConfigError) as caught:
        parse_sampling({"name": "class_weight", "ratio": 1})
    assert (
        str(caught.value)
        == "data.sampling.class_weight.ratio: unknown key; no keys are accepted here"
    )


def test_the_formatter_takes_any_root_and_prefix():
    from pydantic import TypeAdapter, ValidationError

    from gradwise.config.models import ModelConfig

    with pytest.raises(ValidationError) as caught:
        TypeAdapter(ModelConfig).validate_python({"kind": "cnn2d", "kernel_size": 0})
    assert format_validation_error(caught.value, ModelConfig, "models.3") == (
        "models.3.kernel_size: must be greater than or equal to 1, got 0"
    )
    assert format_validation_error(caught.value, ModelConfig) == (
        "kernel_size: must be greater than or equal to 1, got 0"
    )


def test_unknown_model_kind_lists_every_kind():
    with pytest.raises(ConfigError) as caught:
        load_config({**BASE, "model": {"kind": "perceiver"}})
    for kind in MODEL_CONFIGS:
        assert f"'{kind}'" in str(caught.value)


# ---------------------------------------------------------------------------- module graph
def _config_imports(path: Path) -> set[str]:
    """The gradwise.config modules ``path`` imports, at the top or inside functions."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        imported |= {name for name in names if name.startswith("gradwise.config.")}
    return imported


def test_config_modules_import_each_other_without_cycles():
    folder = Path(gradwise.config.__file__).parent
    modules = {f"gradwise.config.{path.stem}": path for path in folder.glob("[!_]*.py")}
    graph = {name: _config_imports(path) & set(modules) for name, path in modules.items()}
    assert "gradwise.config.schema" not in graph["gradwise.config.compare"]
    assert "gradwise.config.schema" not in graph["gradwise.config.tune"]

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, " -> ".join((*trail, name))
        for imported in graph[name]:
            visit(imported, (*trail, name))

    for name in graph:
        visit(name, ())


@pytest.mark.parametrize(
    "name",
    [
        "Activation",
        "CNN1dConfig",
        "CNN2dConfig",
        "CompareConfig",
        "DataConfig",
        "DiagnoseConfig",
        "EarlyStoppingConfig",
        "ExperimentConfig",
        "Init",
        "MLPConfig",
        "MODEL_CONFIGS",
        "ModelBase",
        "ModelConfig",
        "Norm",
        "OptimizerConfig",
        "Probability",
        "RNNConfig",
        "ReportConfig",
        "ScheduleConfig",
        "Section",
        "TrainConfig",
        "TuneConfig",
    ],
)
def test_schema_still_exports_every_section(name: str):
    import gradwise.config.schema as schema

    assert hasattr(schema, name)
