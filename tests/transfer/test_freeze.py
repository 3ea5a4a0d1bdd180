"""Freezing by name patterns, frozen batch norms, and the gradual-unfreezing schedule."""

from __future__ import annotations

import pytest
import torch

from gradwise.config import load_config
from gradwise.errors import ConfigError
from gradwise.models import build_model
from gradwise.transfer.freeze import FreezeSchedule, releases
from gradwise.transfer.groups import layer_groups


def model_of(kind: str, shape: tuple[int, ...], **options) -> torch.nn.Module:
    config = load_config({"data": {"source": "x"}, "model": {"kind": kind, **options}})
    torch.manual_seed(0)
    return build_model(config.model, shape, 3)


def schedule_for(model: torch.nn.Module, patterns: list[str], unfreeze=None) -> FreezeSchedule:
    if unfreeze is not None:
        unfreeze = load_config(
            {"data": {"source": "x"}, "train": {"unfreeze": unfreeze}}
        ).train.unfreeze
    return FreezeSchedule(model, patterns, layer_groups(model), unfreeze)


def trainable(model: torch.nn.Module) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_a_module_pattern_freezes_everything_inside_and_a_parameter_pattern_only_itself():
    model = model_of("mlp", (6,), hidden=[5, 4])
    schedule_for(model, ["body"]).apply(1)
    assert trainable(model) == {"head.weight", "head.bias"}
    model = model_of("mlp", (6,), hidden=[5, 4])
    schedule_for(model, ["*.bias"]).apply(1)
    assert trainable(model) == {"body.0.weight", "body.3.weight", "head.weight"}


@pytest.mark.parametrize("pattern", ["bdy", "features.*"])
def test_a_pattern_that_matches_nothing_is_one_line_naming_it(pattern: str):
    model = model_of("mlp", (6,), hidden=[5])
    with pytest.raises(ConfigError) as caught:
        schedule_for(model, ["head", pattern])
    message = str(caught.value)
    assert message.startswith(f"model.freeze[1]: '{pattern}' matches no module or parameter")
    assert "top-level modules are: flatten, body, head" in message and "\n" not in message
    if pattern == "bdy":
        assert "did you mean 'body'?" in message


def test_unfreeze_without_a_freeze_is_refused():
    with pytest.raises(ConfigError, match=r"train\.unfreeze: nothing is frozen"):
        schedule_for(model_of("mlp", (6,), hidden=[5]), [], {"every": 1})


def test_a_frozen_batch_norm_keeps_its_statistics_while_the_model_trains():
    model = model_of("cnn1d", (16,), channels=[4, 4], hidden=[6])  # batch norms in both
    schedule_for(model, ["features"]).apply(1)
    frozen_bn, live_bn = model.features[0][1], model.dense[1]
    frozen_stats = (frozen_bn.running_mean.clone(), frozen_bn.running_var.clone())
    live_mean = live_bn.running_mean.clone()
    conv = model.features[0][0].weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.5)
    model.train()
    for _ in range(3):
        model.train()  # what the engine does each epoch
        x = 3.0 + 2.0 * torch.randn(8, 16)  # far from the running statistics (0, 1)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), torch.randint(0, 3, (8,))).backward()
        optimizer.step()
    assert torch.equal(frozen_bn.running_mean, frozen_stats[0])
    assert torch.equal(frozen_bn.running_var, frozen_stats[1])
    assert not frozen_bn.training and live_bn.training
    assert not torch.equal(live_bn.running_mean, live_mean)
    # no update and no weight decay for frozen weights
    assert torch.equal(model.features[0][0].weight, conv)
    # in eval mode the frozen part computes exactly as in training mode (running statistics)
    x = torch.randn(5, 16)
    features_train = model.features(x[:, None])
    model.eval()
    assert torch.equal(features_train, model.features(x[:, None]))


def test_the_release_count_is_a_function_of_the_epoch():
    every = load_config({"data": {"source": "x"}, "train": {"unfreeze": 2}}).train.unfreeze
    listed = load_config({"data": {"source": "x"}, "train": {"unfreeze": [3, 4]}}).train.unfreeze
    assert [releases(every, e) for e in range(1, 7)] == [0, 0, 1, 1, 2, 2]
    assert [releases(listed, e) for e in range(1, 7)] == [0, 0, 1, 2, 2, 2]


def test_gradual_unfreezing_releases_one_group_from_the_head_down():
    model = model_of("mlp", (6,), hidden=[5, 4], norm="batch")
    schedule = schedule_for(model, ["*"], {"every": 1})
    expected = [
        {"head.weight", "head.bias"},
        {
            "head.weight",
            "head.bias",
            "body.3.weight",
            "body.3.bias",
            "body.4.weight",
            "body.4.bias",
        },
        {n for n, _ in model.named_parameters()},
    ]
    for epoch, names in enumerate(expected, start=1):
        schedule.apply(epoch)
        assert trainable(model) == names, epoch
    assert [schedule.release_epoch(g, 5) for g in range(3)] == [3, 2, 1]
    # a released batch norm follows the model's mode again
    schedule.apply(1)
    model.train()
    model(torch.randn(4, 6))
    assert not model.body[4].training
    schedule.apply(2)
    model.train()
    model(torch.randn(4, 6))
    assert model.body[4].training and not model.body[1].training
