"""The engine on its own: batching, full batch, one-sample last batches, two optimizers,
separate random streams, rank-aware callbacks, the trained vs the wrapped module."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradwise.errors import TrainingError
from gradwise.tasks import Paradigm
from gradwise.training.callbacks import Callback
from gradwise.training.engine import TensorSplit, Trainer
from gradwise.training.schedules import LRSchedule


class Schedule:
    name, warmup_epochs = "constant", 0.0


class LinearFit(Paradigm):
    """y ≈ w·x + b with MSE, recording the batches it trains on."""

    def __init__(self) -> None:
        self.seen: list[dict[str, torch.Tensor]] = []

    def compute_loss(self, trainer, outputs, batch):
        return F.mse_loss(outputs.squeeze(-1), batch["y"])

    def train_step(self, trainer, batch):
        self.seen.append(batch)
        loss = trainer.compute_loss(trainer.forward(batch["x"]), batch)
        return {"loss": trainer.optimizer_step("main", loss)}

    def evaluate(self, trainer, split):
        outputs = trainer.predict_outputs(split["x"])
        return {"loss": trainer.compute_loss(outputs, split.tensors).item()}


def data(n: int, seed: int = 0) -> TensorSplit:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=generator)
    return TensorSplit({"x": x, "y": x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3})


def trainer_for(
    paradigm: Paradigm, model: nn.Module | None = None, batch_size: int | None = 8, **kwargs
) -> Trainer:
    model = model or nn.Linear(3, 1)
    optimizers = {"main": torch.optim.SGD(model.parameters(), lr=0.1)}
    schedules = {"main": LRSchedule(optimizers["main"], Schedule(), 1, 1)}
    return Trainer(
        model,
        paradigm,
        optimizers,
        schedules,
        batch_size=batch_size,
        epochs=2,
        device=torch.device("cpu"),
        seed=0,
        **kwargs,
    )


def test_full_batch_is_one_unshuffled_step_per_epoch():
    paradigm, train = LinearFit(), data(20)
    trainer = trainer_for(paradigm, batch_size=None)
    trainer.fit(train, None)
    assert trainer.global_step == 2 and len(paradigm.seen) == 2
    assert all(batch["x"] is train["x"] for batch in paradigm.seen)  # no gather, no copy


@pytest.mark.parametrize(
    ("n", "batch_size", "sizes"),
    [(17, 8, [8, 8]), (18, 8, [8, 8, 2]), (16, 8, [8, 8]), (5, 1, [1] * 5)],
)
def test_a_last_batch_of_one_sample_is_dropped_unless_every_batch_has_one(
    n: int, batch_size: int, sizes: list[int]
):
    from gradwise.training.batching import steps_per_epoch

    paradigm = LinearFit()
    trainer = trainer_for(paradigm, batch_size=batch_size)
    logs = trainer.train_epoch(data(n))
    assert [len(batch["x"]) for batch in paradigm.seen] == sizes
    assert steps_per_epoch(n, batch_size) == len(sizes)
    rows = torch.cat([batch["x"] for batch in paradigm.seen])
    assert len({tuple(row.tolist()) for row in rows}) == sum(sizes)  # each row at most once
    assert 0 < logs["train_loss"] < float("inf")


class TwoModels(Paradigm):
    """Alternating updates of two linear models (a tiny teacher and student)."""

    def train_step(self, trainer, batch):
        teacher, student = trainer.module["teacher"], trainer.module["student"]
        teacher_loss = F.mse_loss(teacher(batch["x"]).squeeze(-1), batch["y"])
        teacher_loss = trainer.optimizer_step("teacher", teacher_loss)
        target = teacher(batch["x"]).detach()
        student_loss = trainer.optimizer_step("student", F.mse_loss(student(batch["x"]), target))
        return {"loss": student_loss, "teacher_loss": teacher_loss}


class Stepping(Callback):
    def __init__(self) -> None:
        self.names: list[str] = []

    def on_after_backward(self, trainer) -> None:
        self.names.append(trainer.stepping)


def two_model_trainer(callbacks: list[Callback] | None = None) -> Trainer:
    torch.manual_seed(0)
    module = nn.ModuleDict({"teacher": nn.Linear(3, 1), "student": nn.Linear(3, 1)})
    optimizers = {name: torch.optim.Adam(module[name].parameters(), lr=0.05) for name in module}
    schedules = {name: LRSchedule(o, Schedule(), 1, 1) for name, o in optimizers.items()}
    return Trainer(
        module,
        TwoModels(),
        optimizers,
        schedules,
        batch_size=8,
        epochs=3,
        device=torch.device("cpu"),
        seed=0,
        callbacks=callbacks,
    )


def test_two_optimizers_step_in_turn_and_both_resume():
    stepping = Stepping()
    whole = two_model_trainer([stepping])
    whole.fit(data(40), None)
    assert stepping.names[:4] == ["teacher", "student", "teacher", "student"]
    assert {"train_loss", "train_teacher_loss"} <= set(whole.history[-1])

    cut = two_model_trainer()
    cut.epochs = 1
    cut.fit(data(40), None)
    state = cut.state_dict()
    assert set(state["optimizers"]) == set(state["schedules"]) == {"teacher", "student"}
    weights = {k: v.clone() for k, v in cut.module.state_dict().items()}
    resumed = two_model_trainer()
    resumed.module.load_state_dict(weights)
    resumed.load_state_dict(state)
    resumed.fit(data(40), None)
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, resumed.module.state_dict()[key]), key


def test_changing_the_augmentation_leaves_the_batch_order_unchanged():
    def order(transforms) -> list[torch.Tensor]:
        paradigm = LinearFit()
        augment = torch.Generator().manual_seed(7)
        trainer = trainer_for(
            paradigm,
            generators={"augment": augment},
            batch_transforms=[t(augment) for t in transforms],
        )
        trainer.fit(data(40), None)
        return [batch["y"] for batch in paradigm.seen]  # targets are never augmented here

    def noise(generator):
        def apply(batch):
            x = batch["x"] + 0.1 * torch.randn(batch["x"].shape, generator=generator)
            return {**batch, "x": x}

        return apply

    plain, noisy, twice = order([]), order([noise]), order([noise, noise])
    assert all(torch.equal(a, b) for a, b in zip(plain, noisy, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(plain, twice, strict=True))


class Writer(Callback):
    main_process_only = True


def test_main_process_only_callbacks_run_on_rank_zero_alone():
    everywhere, writer = Stepping(), Writer()
    trainer = trainer_for(LinearFit())
    trainer.set_callbacks([everywhere, writer])
    assert trainer.callbacks.callbacks == [everywhere, writer]
    trainer.rank = 1
    trainer.set_callbacks([everywhere, writer])
    assert trainer.callbacks.callbacks == [everywhere]


class Wrapper(nn.Module):
    """Stands for a data-parallel wrapper: forwards to the module it holds."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.module(x)


def test_the_trained_module_and_the_wrapped_model_are_distinct():
    paradigm = LinearFit()
    trainer = trainer_for(paradigm)
    inner = trainer.module
    trainer.model = Wrapper(inner)
    trainer.fit(data(24), data(8, seed=1))
    assert trainer.model.calls > 0  # forward passes go through the wrapper
    assert trainer.module is inner  # what checkpoints hold: no "module." prefix
    assert set(trainer.module.state_dict()) == {"weight", "bias"}


def test_a_non_finite_loss_stops_before_the_step_and_names_the_layer():
    trainer = trainer_for(LinearFit(), batch_size=None)
    train = data(16)
    train.tensors["x"][3, 0] = float("nan")
    before = {k: v.clone() for k, v in trainer.module.state_dict().items()}
    with pytest.raises(TrainingError, match=r"step 1; first non-finite layer: model \(output\)"):
        trainer.fit(train, None)
    for key, value in trainer.module.state_dict().items():
        assert torch.equal(value, before[key])  # the weights were not stepped


@pytest.mark.parametrize("scale", [1e-3, 1e3])  # gradients within the bound, and beyond it
def test_gradient_clipping_matches_torch(scale: float):
    model = nn.Linear(3, 2)
    trainer = trainer_for(LinearFit(), model, grad_clip=0.5)
    generator = torch.Generator().manual_seed(0)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=generator) * scale
    reference = copy.deepcopy(model)
    for p, twin in zip(model.parameters(), reference.parameters(), strict=True):
        twin.grad = p.grad.clone()
    nn.utils.clip_grad_norm_(reference.parameters(), 0.5)
    trainer.check_and_clip("main", check=True)
    for p, expected in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(p.grad, expected.grad)


def test_non_finite_gradient_stops_a_clipped_run_with_its_layer():
    model = nn.Linear(3, 1)
    trainer = trainer_for(LinearFit(), model, grad_clip=1.0)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    model.bias.grad[0] = float("inf")
    with pytest.raises(TrainingError, match=r"non-finite gradient.*first non-finite layer"):
        trainer.check_and_clip("main", check=True)
    assert torch.equal(model.weight.grad, torch.ones_like(model.weight))  # left unscaled


def test_gradient_clipping_bounds_each_optimizers_update():
    paradigm = LinearFit()
    trainer = trainer_for(paradigm, batch_size=None, grad_clip=0.01)
    train = data(16)
    train.tensors["y"] = train["y"] * 1000  # a huge gradient
    before = trainer.module.weight.detach().clone()
    trainer.train_epoch(train)
    moved = torch.cat([(trainer.module.weight - before).flatten()]).norm()
    assert moved <= 0.1 * 0.01 + 1e-6  # lr · max norm (the bias shares the clip)
