"""The optimizer lab: every registered optimizer, each at its own tuned learning rate.

A bake-off at one shared learning rate measures mostly which optimizer that rate suits. Here
each arm gets a short sweep first: ``K`` learning rates log-spaced over two decades around the
optimizer's usual rate,

    lr_k = centre · 10^(−1 + 2k/(K−1)),  k = 0 … K−1,

each trained once on the first seed; the rate with the best validation value is chosen, and the
arm is then trained on the other seeds at that rate (the sweep's run at the chosen rate is the
first seed's run: every arm gets the same small selection advantage).

The arms are the optimizers of :data:`gradwise.training.optimizers.OPTIMIZERS` — an optimizer
registered there appears here by itself — with SGD split into its textbook variants (plain,
momentum 0.9, Nesterov). Weight decay is 0 for every arm but AdamW, whose decoupled decay is
what sets it apart (the experiment's own value, or 0.01); RMSProp is run without momentum, as
Tieleman & Hinton (2012) define it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gradwise.lab.base import LABS, Arm, Lab, RunJobs
from gradwise.lab.jobs import Job, JobResult
from gradwise.lab.plan import LabPlan
from gradwise.lab.summary import TARGET_TEXT, add_targets, arm_summary, best_value

OPT = "train.optimizer"
# arms per optimizer name: (arm name, label, overrides); an optimizer not listed is one arm
VARIANTS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "sgd": [
        ("sgd", "SGD", {f"{OPT}.momentum": 0.0, f"{OPT}.nesterov": False}),
        ("momentum", "SGD + momentum 0.9", {f"{OPT}.momentum": 0.9, f"{OPT}.nesterov": False}),
        ("nesterov", "Nesterov 0.9", {f"{OPT}.momentum": 0.9, f"{OPT}.nesterov": True}),
    ],
    "adagrad": [("adagrad", "AdaGrad", {})],
    "rmsprop": [("rmsprop", "RMSProp", {f"{OPT}.momentum": 0.0})],
    "adam": [("adam", "Adam", {})],
    "adamw": [("adamw", "AdamW", {})],
}
# the centre of each arm's sweep: a rate that usually trains small and medium models
LR_CENTRES: dict[str, float] = {
    "sgd": 0.1,
    "momentum": 0.03,
    "nesterov": 0.03,
    "adagrad": 0.03,
    "rmsprop": 1e-3,
    "adam": 3e-3,
    "adamw": 3e-3,
}
DEFAULT_LR_CENTRE = 1e-3
DEFAULT_DECOUPLED_DECAY = 0.01
MAX_LR = 10.0  # the schema's bound on train.optimizer.lr


def sweep_rates(centre: float, points: int) -> list[float]:
    """``points`` rates, log-spaced over two decades centred on ``centre``."""
    exponents = [-1 + 2 * k / (points - 1) for k in range(points)]
    return [min(MAX_LR, float(f"{centre * 10**e:.3g}")) for e in exponents]


@LABS.register("optimizers")
class OptimizerLab(Lab):
    title = "Optimizers"
    question = "Which optimizer trains this model best, each at its own tuned learning rate?"

    def arms(self, plan: LabPlan) -> list[Arm]:
        from gradwise.training.optimizers import OPTIMIZERS

        configured = (plan.experiment.get("train") or {}).get("optimizer") or {}
        decay = float(configured.get("weight_decay") or 0.0)
        arms = []
        # the textbook's order first, then any other registered optimizer
        names = [n for n in VARIANTS if n in OPTIMIZERS]
        names += [n for n in OPTIMIZERS.names() if n not in VARIANTS]
        for name in names:
            for arm, label, extra in VARIANTS.get(name, [(name, name, {})]):
                decoupled = name == "adamw"
                overrides = {
                    f"{OPT}.name": name,
                    f"{OPT}.weight_decay": (decay or DEFAULT_DECOUPLED_DECAY) if decoupled else 0.0,
                    **extra,
                }
                note = f"weight decay {overrides[f'{OPT}.weight_decay']:g}" if decoupled else ""
                arms.append(Arm(arm, label, overrides, note))
        return arms

    def run(self, plan: LabPlan, arms: Sequence[Arm], run_jobs: RunJobs) -> dict[str, Any]:
        higher = plan.higher_is_better
        runs_per_arm = plan.lr_points + len(plan.seeds) - 1
        seconds = plan.budget / (len(arms) * runs_per_arm) if plan.budget else None
        first = plan.seeds[0]
        sweep_jobs = [
            Job(
                f"{arm.name}-lr{k}-s{first}",
                arm.name,
                first,
                {**arm.overrides, f"{OPT}.lr": lr},
                seconds,
                lr=lr,
            )
            for arm in arms
            for k, lr in enumerate(
                sweep_rates(LR_CENTRES.get(arm.name, DEFAULT_LR_CENTRE), plan.lr_points)
            )
        ]
        sweep = run_jobs(sweep_jobs)
        chosen: dict[str, JobResult | None] = {}
        for arm in arms:
            tried = [r for r in sweep if r.arm == arm.name and best_value(r, higher) is not None]
            pick = max if higher else min
            chosen[arm.name] = pick(tried, key=lambda r: best_value(r, higher)) if tried else None
        seed_jobs = [
            Job(
                f"{arm.name}-s{seed}",
                arm.name,
                seed,
                {**arm.overrides, f"{OPT}.lr": best.lr},
                seconds,
                lr=best.lr,
            )
            for arm in arms
            if (best := chosen[arm.name]) is not None
            for seed in plan.seeds[1:]
        ]
        seeded = run_jobs(seed_jobs)
        results = {
            arm.name: [r for r in [chosen[arm.name]] if r is not None]
            + [r for r in seeded if r.arm == arm.name]
            for arm in arms
        }
        rows = {arm.name: arm_summary(results[arm.name], higher) for arm in arms}
        for arm in arms:
            best = chosen[arm.name]
            rows[arm.name]["lr"] = best.lr if best is not None else None
            tried = [r.lr for r in sweep if r.arm == arm.name and r.lr is not None]
            # the best rate at the end of the grid: a wider sweep might find a better one
            rows[arm.name]["lr_at_edge"] = best is not None and best.lr in (min(tried), max(tried))
        target = add_targets(rows, results, higher)
        return {
            "target": target,
            "target_definition": TARGET_TEXT,
            "lr_rule": "sweep: lr_k = centre · 10^(−1 + 2k/(K−1)) on the first seed, "
            "best validation value chosen",
            "sweep": [
                {
                    "arm": r.arm,
                    "lr": r.lr,
                    "best": best_value(r, higher),
                    "status": r.status,
                    "error": r.error,
                }
                for r in sweep
            ],
            "rows": rows,
            "results": {arm: [r.to_dict() for r in rs] for arm, rs in results.items()},
        }

    def figures(self, document: Mapping[str, Any]) -> dict[str, bytes]:
        from gradwise.lab import plots

        return {
            "curves.png": plots.curves_png(document, ("epoch", "time")),
            "lr_sweep.png": plots.sweep_png(document),
        }

    def sections(self, document: Mapping[str, Any], figures: Mapping[str, bytes]) -> list[Any]:
        from gradwise.lab import page

        return page.optimizer_sections(document, figures)

    def table(self, document: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
        from gradwise.lab.page import optimizer_table

        return optimizer_table(document)
