"""The model kinds have one source, ``MODEL_CONFIGS``: every other place is computed from it."""

from __future__ import annotations

import contextlib
import io
import typing
from typing import Literal

import pytest
import yaml

from gradwise.config.compare import CompareConfig
from gradwise.config.models import MODEL_CONFIGS, ModelBase, kind_of
from gradwise.config.schema import ExperimentConfig
from gradwise.config.templates import MODEL_BLOCKS, TRAIN_RECIPES, starting_config
from gradwise.errors import ConfigError


def union_kinds(annotation: object) -> set[str]:
    """The kinds of a model union annotation (``Annotated[A | B, ...]``, maybe in a list)."""
    while typing.get_origin(annotation) in (typing.Annotated, list):
        annotation = typing.get_args(annotation)[0]
    return {kind_of(member) for member in typing.get_args(annotation)}


def init_help() -> str:
    from gradwise.cli.main import main

    text = io.StringIO()
    with contextlib.redirect_stdout(text), pytest.raises(SystemExit):
        main(["init", "--help"])
    return text.getvalue()


def test_every_place_lists_the_same_kinds():
    from gradwise.models import MODELS  # the torch builders

    kinds = set(MODEL_CONFIGS)
    assert set(MODELS.names()) == kinds
    assert union_kinds(ExperimentConfig.model_fields["model"].annotation) == kinds
    assert union_kinds(CompareConfig.model_fields["models"].annotation) == kinds
    assert set(MODEL_BLOCKS) <= kinds and set(TRAIN_RECIPES) <= kinds  # recipes, not a list
    assert " | ".join(MODEL_CONFIGS) in " ".join(init_help().split())
    with pytest.raises(ConfigError) as caught:
        starting_config("mnist1d", "no_such_kind")
    assert str(caught.value).endswith(f"choose from: {', '.join(MODEL_CONFIGS)}")


@pytest.mark.parametrize("kind", list(MODEL_CONFIGS))
def test_init_writes_a_valid_experiment_for_every_kind(kind: str):
    from gradwise.config import load_config

    config = load_config(yaml.safe_load(starting_config("mnist1d", kind)))
    assert config.model.kind == kind


class ToyConfig(ModelBase):
    kind: Literal["toy"] = "toy"
    width: int = 7


def test_a_new_kind_shows_up_in_init_and_its_help(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(MODEL_CONFIGS, "toy", ToyConfig)
    text = starting_config("mnist1d", "toy")  # no hand-written block: its defaults
    model = yaml.safe_load(text)["model"]
    assert model == {"kind": "toy", **ToyConfig().model_dump(exclude={"kind"})}
    assert "toy" in init_help()
