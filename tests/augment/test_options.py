"""``data.augment`` and ``data.sampling`` in the config: accepted forms, one error per mistake."""

from __future__ import annotations

import pytest

from gradwise.augment.options import parse_augment, parse_sampling
from gradwise.config import load_config
from gradwise.errors import ConfigError
from tests.conftest import run_python


def data(**keys):
    return {"data": {"source": "mnist1d", **keys}}


def test_accepted_forms_and_shorthands():
    config = load_config(
        data(
            augment=[
                {"gaussian_noise": 0.1},
                {"shift": {"max": 4, "mode": "zeros", "p": 0.5}},
                "hflip",
                {"mixup": None},
            ],
            sampling={"name": "random", "fraction": 0.5},
        )
    )
    parsed = parse_augment(config.data.augment)
    assert [name for name, _ in parsed] == ["gaussian_noise", "shift", "hflip", "mixup"]
    assert parsed[0][1].sigma == 0.1 and parsed[0][1].p == 1.0
    assert parsed[1][1].max == 4 and parsed[1][1].mode == "zeros" and parsed[1][1].p == 0.5
    assert parsed[2][1].p == 0.5  # hflip's default
    assert parsed[3][1].alpha == 0.2
    name, options = parse_sampling(config.data.sampling)
    assert name == "random" and options.fraction == 0.5 and options.size is None
    assert parse_sampling("smote")[1].k_neighbors == 5


def test_override_from_the_command_line():
    config = load_config(data(), ["data.augment=[{shift: 4}, {mixup: 0.2}]", "data.sampling=smote"])
    assert config.data.augment == [{"shift": 4}, {"mixup": 0.2}]
    assert config.data.sampling == "smote"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"augment": [{"shift": 4}, {"gausian_noise": 0.1}]},
            "data.augment[1]: unknown augmentation 'gausian_noise' (did you mean "
            "'gaussian_noise'?)",
        ),
        (
            {"augment": [{"shift": {"maxx": 3}}]},
            "data.augment[0].shift.maxx: unknown key (did you mean 'max'?); "
            "valid keys here: p, max, mode",
        ),
        ({"augment": [{"shift": -1}]}, "data.augment[0].shift.max: must be greater than or equal"),
        ({"augment": [{"shift": {"mode": "wrap"}}]}, "data.augment[0].shift.mode: must be"),
        ({"augment": [{"gaussian_noise": {"p": 1.5}}]}, "data.augment[0].gaussian_noise.p"),
        ({"augment": [{"mixup": 0}]}, "data.augment[0].mixup.alpha: must be greater than 0"),
        ({"augment": [{"shift": 4, "mixup": 0.2}]}, "data.augment[0]: expected one augmentation"),
        ({"augment": [{"dropout_noise": 1.0}]}, "data.augment[0].dropout_noise.rate"),
        (
            {"sampling": "smot"},
            "data.sampling: unknown sampling 'smot' (did you mean 'smote'?)",
        ),
        ({"sampling": {"name": "random"}}, "data.sampling.random: give exactly one of fraction"),
        (
            {"sampling": {"name": "random", "fraction": 0.5, "size": 10}},
            "data.sampling.random: give exactly one",
        ),
        ({"sampling": {"name": "random", "fraction": 2}}, "data.sampling.random.fraction"),
        (
            {"sampling": {"name": "smote", "k": 3}},
            "data.sampling.smote.k: unknown key; valid keys here: ratio, k_neighbors",
        ),
        ({"sampling": {"fraction": 0.5}}, "data.sampling: expected a method name"),
        ({"sampling": {"name": "oversample", "ratio": 0}}, "data.sampling.oversample.ratio"),
    ],
)
def test_mistakes_name_the_key(keys, expected):
    with pytest.raises(ConfigError) as info:
        load_config(data(**keys))
    assert expected in str(info.value)


def test_validation_does_not_import_torch():
    code = (
        "import sys; from gradwise.config import load_config; "
        "load_config({'data': {'source': 'x', 'augment': [{'shift': 4}, {'mixup': 0.2}], "
        "'sampling': 'smote'}}); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    run_python("-c", code, check=True)
