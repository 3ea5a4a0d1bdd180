"""The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks",
WACV 2017): train for a few hundred steps while the learning rate grows exponentially, watch
the smoothed loss, and suggest the rate at which it falls fastest.

Formula (step i of N, from lr_min to lr_max; per-batch loss ℓ_i)::

    lr_i      = lr_min · (lr_max / lr_min)^(i / (N − 1))
    smooth_i  = mean(ℓ_{i−h} … ℓ_{i+h}),  h = max(2, N / 40)      (centred: no lag)
    steepest  = lr at argmin_i  d smooth_i / d log lr_i          (before the minimum)
    suggested = min(steepest, lr_at_min_loss / 10)

Smith (and fastai) smooth with a causal moving average, which lags the curve by many steps and
shifts every point to the right; the test is analysed after it ends, so a centred window is used
for the curve and the causal average (β = 0.9, bias-corrected) only to decide when to stop.
The test stops early once the causal average exceeds 4× its minimum (it has diverged). The model
and optimizer come from :func:`gradwise.experiment.build_experiment` and are thrown away after:
no run directory is written, only the plot.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradwise.config.load import ConfigSource

STOP_SMOOTHING = 0.9
DIVERGED = 4.0


@dataclass
class LRFindResult:
    suggested_lr: float
    steepest_lr: float
    min_loss_lr: float
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # raw per-step training losses
    smoothed: list[float] = field(default_factory=list)
    plot: str | None = None
    written: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def lr_schedule(min_lr: float, max_lr: float, steps: int) -> list[float]:
    return [min_lr * (max_lr / min_lr) ** (i / max(1, steps - 1)) for i in range(steps)]


def smooth(losses: list[float]) -> list[float]:
    """Centred moving average over 2h + 1 steps (fewer at the ends)."""
    half = max(2, len(losses) // 40)
    return [
        sum(losses[max(0, i - half) : i + half + 1]) / len(losses[max(0, i - half) : i + half + 1])
        for i in range(len(losses))
    ]


def suggest(lrs: list[float], smoothed: list[float]) -> tuple[float, float, float]:
    """(suggested, steepest, at-minimum) learning rates of a range-test curve."""
    lowest = min(range(len(smoothed)), key=smoothed.__getitem__)
    # skip the first 5% (edge of the window) and everything past the minimum
    start = min(len(smoothed) // 20, max(lowest - 1, 0))
    logs = [math.log10(lr) for lr in lrs]
    slopes = [
        (smoothed[i + 1] - smoothed[i - 1]) / (logs[i + 1] - logs[i - 1])
        for i in range(max(start, 1), min(lowest + 1, len(smoothed) - 1))
    ]
    if slopes:
        steepest = lrs[max(start, 1) + min(range(len(slopes)), key=slopes.__getitem__)]
    else:
        steepest = lrs[lowest]
    return min(steepest, lrs[lowest] / 10), steepest, lrs[lowest]


def lr_find(
    config: ConfigSource,
    overrides: list[str] | dict[str, Any] | None = None,
    *,
    steps: int = 200,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    plot: str | Path | None = None,
) -> LRFindResult:
    """Run the range test on ``config`` (its model, optimizer, loss and data) and return the
    curve and the suggestion; with ``plot``, also save the loss-vs-lr picture there."""
    import torch

    from gradwise.config import load_config
    from gradwise.errors import ConfigError
    from gradwise.experiment import build_experiment
    from gradwise.tasks import load_data

    if not 0 < min_lr < max_lr:
        raise ConfigError(f"lr-find: need 0 < min_lr < max_lr, got {min_lr:g} and {max_lr:g}")
    if steps < 10:
        raise ConfigError(f"lr-find: --steps must be at least 10, got {steps}")
    resolved = load_config(config, overrides)
    splits = load_data(resolved)
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):  # the caller's random state is left as it was
        experiment = build_experiment(resolved, splits)
        lrs, losses = range_test(experiment, lr_schedule(min_lr, max_lr, steps))
    if len(losses) < 3:
        raise ConfigError(
            f"lr-find: the loss was non-finite from lr {min_lr:g} on; lower the start "
            "(--min-lr) or check the data"
        )
    smoothed = smooth(losses)
    suggested, steepest, at_min = suggest(lrs, smoothed)
    result = LRFindResult(suggested, steepest, at_min, lrs, losses, smoothed)
    if plot is not None:
        result.plot = str(plot_range_test(result, Path(plot)))
    return result


def range_test(experiment: Any, schedule: list[float]) -> tuple[list[float], list[float]]:
    """One optimizer step per learning rate of ``schedule`` on shuffled training batches;
    returns the learning rates reached and their losses (stops on divergence)."""
    import torch

    from gradwise.errors import TrainingError

    trainer, train = experiment.trainer, experiment.train_split
    trainer.model.train()
    lrs: list[float] = []
    losses: list[float] = []
    batches: Iterator[tuple[dict[str, torch.Tensor], int]] = iter(())
    average, lowest = 0.0, math.inf  # causal average, for the stopping rule only
    for step, lr in enumerate(schedule):
        batch = next(batches, None)
        if batch is None:
            batches = trainer.epoch_batches(train)
            batch = next(batches)
        for optimizer in trainer.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = lr  # set before every step: the run's own schedule does not apply
        trainer.batch = batch[0]
        try:
            loss = trainer.train_step(batch[0])["loss"]  # the run's loss, clipping, optimizer
        except TrainingError:  # a non-finite loss: the range has diverged
            break
        value = loss.item()
        if not math.isfinite(value):  # (checked after the step where the engine does not)
            break
        lrs.append(lr)
        losses.append(value)
        average = STOP_SMOOTHING * average + (1 - STOP_SMOOTHING) * value
        corrected = average / (1 - STOP_SMOOTHING ** (step + 1))
        lowest = min(lowest, corrected)
        if step > len(schedule) // 10 and corrected > DIVERGED * lowest:
            break
    return lrs, losses


def plot_range_test(result: LRFindResult, path: Path) -> Path:
    """Loss against learning rate (log axis), the suggestion marked; written atomically."""
    from gradwise._plotting import GREY, OKABE_ITO, save_png

    blue, orange, vermillion = OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[3]

    def draw(figure) -> None:
        axes = figure.add_subplot()
        axes.plot(result.lrs, result.losses, color=GREY, alpha=0.5, lw=0.8, label="loss per step")
        axes.plot(result.lrs, result.smoothed, color=blue, lw=2, label="smoothed loss")
        axes.axvline(
            result.suggested_lr,
            color=vermillion,
            ls="--",
            lw=1.5,
            label=f"suggested lr {result.suggested_lr:.2g}",
        )
        axes.axvline(
            result.min_loss_lr,
            color=orange,
            ls=":",
            lw=1.5,
            label=f"lowest loss at lr {result.min_loss_lr:.2g}",
        )
        axes.set_xscale("log")
        smoothed = result.smoothed
        low, high = min(smoothed), max(smoothed[: max(3, len(smoothed) // 2)])
        axes.set_ylim(low - 0.05 * (high - low), high + 0.25 * (high - low) + 1e-12)
        axes.set_xlabel("learning rate (log scale)")
        axes.set_ylabel("training loss (per batch)")
        axes.set_title("Learning-rate range test")
        axes.legend()

    return save_png(path, draw, 7, 4.2)


def write_config_with_lr(source: Path, overrides: list[str], lr: float, target: Path) -> Path:
    """A copy of the experiment file ``source`` (with the ``--set`` overrides applied) whose
    ``train.optimizer.lr`` is ``lr``; written atomically and checked to load.

    When the file has that key and no other override applies, only the value's text is
    replaced, so comments and layout are kept; otherwise the experiment is written anew."""
    import yaml

    from gradwise._io import atomic_write_text
    from gradwise.config import load_config
    from gradwise.config.load import parse_override, read_raw_config, set_dotted

    raw, _ = read_raw_config(source, overrides)  # data paths made absolute: the copy may move
    keys = [parse_override(item)[0] for item in overrides]
    value = float(f"{lr:.2g}")
    set_dotted(raw, LR_KEY, value)
    load_config(raw)  # the copy must be a valid experiment
    text = None
    if all(key == LR_KEY for key in keys):
        text = with_value(source.read_text(encoding="utf-8"), LR_KEY, value)
        if text is not None and not reads_as(text, raw, source, target):
            source_path = raw.get("data", {}).get("source")  # relative to the file's folder
            text = with_value(text, "data.source", source_path) if source_path else None
    if text is None or not reads_as(text, raw, source, target):
        text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
    atomic_write_text(target, text)
    return target


def reads_as(text: str, raw: dict[str, Any], source: Path, target: Path) -> bool:
    """Whether experiment ``text``, saved as ``target``, reads as ``raw`` (``source``'s
    experiment with its paths made absolute)."""
    import yaml

    from gradwise.config.load import resolve_paths

    written = yaml.safe_load(text)
    if not isinstance(written, dict):
        return False
    written.setdefault("name", source.stem)
    resolve_paths(written, target.parent)
    return written == raw


LR_KEY = "train.optimizer.lr"


def with_value(text: str, dotted_key: str, value: Any) -> str | None:
    """YAML ``text`` with the scalar at ``dotted_key`` replaced by ``value`` where it is
    written (comments, order and layout kept), or None when the text has no such scalar."""
    import yaml

    node = yaml.compose(text)
    for key in dotted_key.split("."):
        if not isinstance(node, yaml.MappingNode):
            return None
        found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
        if not found:
            return None
        node = found[-1]  # a repeated key: YAML keeps the last
    if not isinstance(node, yaml.ScalarNode):
        return None
    written = yaml.safe_dump(value, default_flow_style=True).splitlines()[0]
    return text[: node.start_mark.index] + written + text[node.end_mark.index :]
