"""The batch-size lab: full-batch gradient descent, mini-batches and pure SGD, side by side.

Arms: ``batch_size: 1`` (pure SGD, trained for a quarter of the epochs: each of its epochs is
``n`` optimizer steps; with layer norm where the model has batch norm, whose batch statistics
need two samples), the powers of four 8 … 512 and the experiment's own batch size below the
training set's size, and ``batch_size: full`` (one step per epoch). The experiment's learning
rate belongs to its own batch size ``B₀``; every other arm's rate follows a stated rule
(:data:`LR_SCALING`, ``--lr-scaling``):

    sqrt:   lr(B) = lr₀ · √(B / B₀)   (Hoffer et al. 2017; Malladi et al. 2022 for Adam)
    linear: lr(B) = lr₀ · B / B₀      (Goyal et al. 2017, for SGD)
    none:   lr(B) = lr₀

Curves are drawn against epochs, training seconds, and samples processed (= gradient
evaluations of single examples: epochs × n). The critical batch size is estimated twice:

- from the gradient noise scale ``B_simple`` (:mod:`gradwise.lab.noise_scale`);
- from the measured curves, with the paper's model of the steps ``S`` and examples ``E`` needed
  to reach a target: ``S(B) = S_min · (1 + B_crit / B)``, i.e. ``S(B) = S_min + E_min / B``
  with ``B_crit = E_min / S_min`` (McCandlish et al. 2018, eq. 2.11), fitted by least squares
  (on relative errors) to the arms' steps-to-target against ``1/B``. Below ``B_crit`` doubling
  the batch nearly halves the steps; above it the steps stop falling — where the measured
  curves stop improving.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gradwise.lab.base import LABS, Arm, Lab, RunJobs
from gradwise.lab.jobs import Job
from gradwise.lab.plan import LabPlan
from gradwise.lab.summary import TARGET_TEXT, add_targets, arm_summary
from gradwise.registry import Registry

LR_SCALING: Registry[Callable[[float, int, int], float]] = Registry("lr scaling rule")
LR_SCALING.register("sqrt")(lambda lr, size, base: lr * math.sqrt(size / base))
LR_SCALING.register("linear")(lambda lr, size, base: lr * size / base)
LR_SCALING.register("none")(lambda lr, size, base: lr)
RULE_TEXT = {
    "sqrt": "lr(B) = lr₀ · √(B / B₀)",
    "linear": "lr(B) = lr₀ · B / B₀",
    "none": "lr(B) = lr₀",
}
MINI_BATCHES = (8, 32, 128, 512)
PURE_SGD_EPOCH_SHARE = 0.25  # pure SGD trains this share of the epochs (each is n steps)
MAX_LR = 10.0


def batch_sizes(base: int | str, n_train: int) -> list[int]:
    """1, the mini-batch sizes and ``base`` below ``n_train``, then ``n_train`` (full)."""
    sizes = {1, *MINI_BATCHES} | ({base} if isinstance(base, int) else set())
    return [*sorted(s for s in sizes if s < n_train), n_train]


@LABS.register("batch")
class BatchLab(Lab):
    title = "Batch size"
    question = "Full-batch gradient descent, mini-batches or pure SGD: which gets there first?"

    def arms(self, plan: LabPlan) -> list[Arm]:
        train = plan.experiment.get("train") or {}
        n_train = int((plan.profile.get("splits") or {}).get("train", 0))
        base = train.get("batch_size", 128)
        base_size = n_train if base == "full" else int(base)
        lr = float((train.get("optimizer") or {}).get("lr", 1e-3))
        rule = LR_SCALING.get(plan.lr_scaling)
        from gradwise.config import load_config

        norm = getattr(load_config(plan.experiment).model, "norm", None)
        arms = []
        for size in batch_sizes(base, n_train):
            full = size == n_train
            scaled = min(MAX_LR, float(f"{rule(lr, size, base_size):.3g}"))
            overrides: dict[str, Any] = {
                "train.batch_size": "full" if full else size,
                "train.optimizer.lr": scaled,
            }
            note = f"lr {scaled:g}"
            if size == 1:
                overrides["train.epochs"] = max(1, round(plan.epochs * PURE_SGD_EPOCH_SHARE))
                note += f", {overrides['train.epochs']} epochs"
                if norm == "batch":  # batch statistics need two samples at least
                    overrides["model.norm"] = "layer"
                    note += ", layer norm instead of batch norm"
            name = "full" if full else f"bs{size}"
            label = (
                f"full batch (B={size})" if full else "pure SGD (B=1)" if size == 1 else f"B={size}"
            )
            arms.append(Arm(name, label, overrides, note))
        return arms

    def run(self, plan: LabPlan, arms: Sequence[Arm], run_jobs: RunJobs) -> dict[str, Any]:
        higher = plan.higher_is_better
        seconds = plan.budget / (len(arms) * len(plan.seeds)) if plan.budget else None
        jobs = [
            Job(f"{arm.name}-s{seed}", arm.name, seed, arm.overrides, seconds)
            for arm in arms
            for seed in plan.seeds
        ]
        finished = run_jobs(jobs)
        results = {arm.name: [r for r in finished if r.arm == arm.name] for arm in arms}
        n_train = int((plan.profile.get("splits") or {}).get("train", 0))
        rows = {arm.name: arm_summary(results[arm.name], higher) for arm in arms}
        target = add_targets(rows, results, higher)
        for arm in arms:
            row = rows[arm.name]
            size = arm.overrides["train.batch_size"]
            size = n_train if size == "full" else int(size)
            row.update(
                batch_size=size,
                lr=arm.overrides["train.optimizer.lr"],
                steps_per_epoch=math.ceil(n_train / size),
            )
            epochs = row.get("epochs_to_target")
            row["samples_to_target"] = epochs * n_train if epochs is not None else None
            row["steps_to_target"] = epochs * row["steps_per_epoch"] if epochs is not None else None
        reference = _reference_run(plan, arms, results)
        from gradwise.config import load_config
        from gradwise.lab.noise_scale import measure

        config = load_config(plan.experiment)
        return {
            "target": target,
            "target_definition": TARGET_TEXT,
            "lr_rule": f"{plan.lr_scaling}: {RULE_TEXT.get(plan.lr_scaling, plan.lr_scaling)}, "
            f"B₀ = {_base_size(plan, n_train)}, lr₀ = {config.train.optimizer.lr:g}",
            "train_rows": n_train,
            "rows": rows,
            "noise_scale": measure(config, reference, plan.seeds[0]),
            "noise_scale_run": reference,
            "critical_batch": fit_critical_batch(
                [(r["batch_size"], r["steps_to_target"]) for r in rows.values()]
            ),
            "results": {arm: [r.to_dict() for r in rs] for arm, rs in results.items()},
        }

    def figures(self, document: Mapping[str, Any]) -> dict[str, bytes]:
        from gradwise.lab import plots

        return {
            "curves.png": plots.curves_png(document, ("epoch", "time", "samples")),
            "critical_batch.png": plots.critical_batch_png(document),
        }

    def sections(self, document: Mapping[str, Any], figures: Mapping[str, bytes]) -> list[Any]:
        from gradwise.lab import page

        return page.batch_sections(document, figures)

    def table(self, document: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
        from gradwise.lab.page import batch_table

        return batch_table(document)


def _base_size(plan: LabPlan, n_train: int) -> int:
    base = (plan.experiment.get("train") or {}).get("batch_size", 128)
    return n_train if base == "full" else int(base)


def _reference_run(plan: LabPlan, arms: Sequence[Arm], results: Mapping[str, list]) -> str | None:
    """The run whose last weights the noise scale is measured at: the first seed of the arm at
    the experiment's own batch size (else the middle arm)."""
    base = (plan.experiment.get("train") or {}).get("batch_size", 128)
    names = [a.name for a in arms]
    name = "full" if base == "full" else f"bs{base}"
    if name not in names:
        name = names[len(names) // 2]
    done = [r for r in results.get(name, []) if r.status == "completed" and r.run_dir]
    return done[0].run_dir if done else None


def fit_critical_batch(points: Sequence[tuple[int, float | None]]) -> dict[str, Any]:
    """Fit ``S(B) = S_min + E_min / B`` to the arms that reached the target, by least squares
    on the *relative* error (weights ``1/S_i²``: the steps span orders of magnitude, and a
    plain fit would follow the smallest batches alone)::

        minimize Σ_i ((S_i − S_min − E_min·x_i) / S_i)²,   x_i = 1/B_i

    ``B_crit = E_min / S_min``; None with fewer than two batch sizes, or when ``S_min ≤ 0``
    (the steps were still falling in proportion at the largest batch measured)."""
    kept = [(float(b), float(s)) for b, s in points if s is not None and s > 0 and b > 0]
    out: dict[str, Any] = {"points": len(kept), "s_min": None, "e_min": None, "b_crit": None}
    if len({b for b, _ in kept}) < 2:
        return out
    weights = [1.0 / s**2 for _, s in kept]
    total = sum(weights)
    xs = [1.0 / b for b, _ in kept]  # 1/B
    ys = [s for _, s in kept]
    x_mean = sum(w * x for w, x in zip(weights, xs, strict=True)) / total
    y_mean = sum(w * y for w, y in zip(weights, ys, strict=True)) / total
    spread = sum(w * (x - x_mean) ** 2 for w, x in zip(weights, xs, strict=True))
    slope = (
        sum(w * (x - x_mean) * (y - y_mean) for w, x, y in zip(weights, xs, ys, strict=True))
        / spread
    )
    intercept = y_mean - slope * x_mean
    out.update(s_min=intercept, e_min=slope)
    if intercept > 0 and slope > 0:
        out["b_crit"] = slope / intercept
    return out
