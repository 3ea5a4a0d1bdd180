"""The regularization lab: each regularizer alone, all of them together, and none.

The ``none`` arm removes every regularizer the experiment has (dropout, weight decay, L1,
augmentation, early stopping, label smoothing); each other arm adds one back to it at a
textbook strength, and ``all`` adds them all. Every arm is judged on the same footing:

- the model kept is the **last** one (what training without early stopping gives), except for
  arms with early stopping, which keep the best epoch's weights by validation loss;
- the train–valid gap is ``train − valid`` of the main metric with that model evaluated in
  eval mode on both splits (no dropout, no augmentation: the training metric logged during an
  epoch is measured on perturbed batches and would understate the gap);
- the test metric is that model's, mean ± std over seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gradwise.lab.base import LABS, Arm, Lab, RunJobs
from gradwise.lab.jobs import Job, JobResult
from gradwise.lab.plan import LabPlan
from gradwise.lab.summary import arm_summary, mean_std

NOISE = [{"gaussian_noise": 0.1}]  # additive N(0, 0.1²) on standardized inputs
# input kind → (label, augmentation entries)
AUGMENT_BY_INPUT: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "signal": ("circular shifts ±4", [{"shift": {"max": 4, "mode": "circular"}}]),
}
# mixup (Zhang et al. 2018) where no shift applies
DEFAULT_AUGMENT: tuple[str, list[dict[str, Any]]] = ("mixup α=0.2", [{"mixup": 0.2}])
NONE: dict[str, Any] = {
    "model.dropout": 0.0,
    "train.optimizer.weight_decay": 0.0,
    "train.l1": 0.0,
    "data.augment": [],
    "train.early_stopping": None,
    "train.label_smoothing": 0.0,
}


def regularizers(plan: LabPlan) -> dict[str, tuple[str, dict[str, Any]]]:
    """Arm name → (label, the overrides that add it), for this experiment."""
    from gradwise.config import load_config
    from gradwise.tasks import TASKS

    config = load_config(plan.experiment)
    decoupled = config.train.optimizer.name == "adamw"
    decay = 0.05 if decoupled else 5e-4
    patience = max(3, plan.epochs // 10)
    augment_label, augment = AUGMENT_BY_INPUT.get(
        str(plan.profile.get("input_kind")), DEFAULT_AUGMENT
    )
    found: dict[str, tuple[str, dict[str, Any]]] = {
        "dropout": ("dropout 0.3", {"model.dropout": 0.3}),
        "weight_decay": (
            f"weight decay {decay:g}" + (" (decoupled)" if decoupled else " (L2)"),
            {"train.optimizer.weight_decay": decay},
        ),
        "l1": ("L1 1e-5", {"train.l1": 1e-5}),
        "noise": ("Gaussian input noise σ=0.1", {"data.augment": NOISE}),
        "augment": (f"augmentation: {augment_label}", {"data.augment": augment}),
        "early_stopping": (
            f"early stopping (patience {patience})",
            {"train.early_stopping": {"patience": patience, "monitor": "valid_loss"}},
        ),
    }
    loss = config.train.loss or TASKS.get(config.task).default_loss
    if loss == "cross_entropy":
        found["label_smoothing"] = ("label smoothing 0.1", {"train.label_smoothing": 0.1})
    return found


@LABS.register("regularization")
class RegularizationLab(Lab):
    title = "Regularization"
    question = "Which regularizer closes the train–valid gap and helps on the test set?"

    def arms(self, plan: LabPlan) -> list[Arm]:
        found = regularizers(plan)
        arms = [Arm("none", "none", dict(NONE), "every regularizer removed")]
        everything: dict[str, Any] = dict(NONE)
        for name, (label, overrides) in found.items():
            arms.append(Arm(name, label, {**NONE, **overrides}))
            for key, value in overrides.items():
                if key == "data.augment":  # noise and augmentation both go in the list
                    everything[key] = [*everything[key], *value]
                else:
                    everything[key] = value
        arms.append(Arm("all", "all together", everything))
        return arms

    def run(self, plan: LabPlan, arms: Sequence[Arm], run_jobs: RunJobs) -> dict[str, Any]:
        higher = plan.higher_is_better
        seconds = plan.budget / (len(arms) * len(plan.seeds)) if plan.budget else None
        jobs = [
            Job(
                f"{arm.name}-s{seed}",
                arm.name,
                seed,
                arm.overrides,
                seconds,
                evaluate="best" if arm.overrides.get("train.early_stopping") else "last",
            )
            for arm in arms
            for seed in plan.seeds
        ]
        finished = run_jobs(jobs)
        results = {arm.name: [r for r in finished if r.arm == arm.name] for arm in arms}
        metric = plan.metric.removeprefix("valid_")
        rows = {}
        for arm in arms:
            row = arm_summary(results[arm.name], higher)
            row.update(kept=jobs_kept(arm), **split_metrics(results[arm.name], metric))
            rows[arm.name] = row
        baseline = rows["none"]["test_mean"] if "none" in rows else None
        for row in rows.values():
            better = None
            if baseline is not None and row["test_mean"] is not None:
                better = row["test_mean"] - baseline
            row["test_change"] = better
        return {
            "main_metric": metric,
            "rule": "model kept: last weights (best by valid_loss with early stopping); "
            "gap = train − valid in eval mode",
            "rows": rows,
            "results": {arm: [r.to_dict() for r in rs] for arm, rs in results.items()},
        }

    def figures(self, document: Mapping[str, Any]) -> dict[str, bytes]:
        from gradwise.lab import plots

        return {
            "ablation.png": plots.ablation_png(document),
            "curves.png": plots.curves_png(document, ("epoch",)),
        }

    def sections(self, document: Mapping[str, Any], figures: Mapping[str, bytes]) -> list[Any]:
        from gradwise.lab import page

        return page.regularization_sections(document, figures)

    def table(self, document: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
        from gradwise.lab.page import regularization_table

        return regularization_table(document)


def jobs_kept(arm: Arm) -> str:
    return "best" if arm.overrides.get("train.early_stopping") else "last"


def split_metrics(results: Sequence[JobResult], metric: str) -> dict[str, float | None]:
    """Mean ± std over seeds of the kept model's train, valid and test metric, and the gap."""
    evaluated = [r.evaluated for r in results if r.evaluated]

    def values(split: str) -> list[float | None]:
        return [e.get(split, {}).get(metric) for e in evaluated]

    gaps = [
        t - v for t, v in zip(values("train"), values("valid"), strict=True) if None not in (t, v)
    ]
    row: dict[str, float | None] = {}
    for name, series in (
        ("train", values("train")),
        ("valid", values("valid")),
        ("test", values("test")),
        ("gap", gaps),
    ):
        row[f"{name}_mean"], row[f"{name}_std"] = mean_std(series)
    return row
