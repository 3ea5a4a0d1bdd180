"""What a study leaves in its directory: ``tune.json`` (counts, best trial, leaderboard,
importances), ``best.yaml`` and the plots.

``best.yaml`` is the whole experiment with the best trial's values applied and the ``tune``
section left out: ``gradwise train best.yaml`` trains the best trial's run again (with the same
seed on CPU, to the same score).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial, TrialState

from gradwise._io import atomic_write_json, atomic_write_text
from gradwise.config import load_config
from gradwise.tuning import plots, space
from gradwise.tuning.plan import TunePlan
from gradwise.tuning.progress import STATE_NAMES, best_trial, study_counts
from gradwise.tuning.study import shown_url


@dataclass
class TuneResult:
    """A finished (or stopped) study, as written to its directory: ``document`` is tune.json,
    the other attributes read from it."""

    study_dir: Path
    best_config: Path | None  # best.yaml
    counts: dict[str, int]  # complete, pruned, failed, running, waiting
    document: dict[str, Any]  # tune.json

    def __repr__(self) -> str:
        return (
            f"TuneResult(study={self.study!r}, best_value={self.best_value!r}, "
            f"best_trial={self.best_trial!r}, counts={self.counts!r})"
        )

    @property
    def study(self) -> str:
        return self.document["study"]

    @property
    def metric(self) -> str:
        return self.document["metric"]

    @property
    def direction(self) -> str:
        return self.document["direction"]

    @property
    def best_value(self) -> float | None:
        """The best complete trial's metric."""
        return (self.document["best"] or {}).get("value")

    @property
    def best_params(self) -> dict[str, Any]:
        """Its parameters, as the study recorded them."""
        return (self.document["best"] or {}).get("params", {})

    @property
    def best_trial(self) -> int | None:
        return (self.document["best"] or {}).get("trial")

    @property
    def leaderboard(self) -> list[dict[str, Any]]:
        """Best first: complete, then pruned, then failed."""
        return self.document["leaderboard"]

    @property
    def importances(self) -> dict[str, float]:
        return self.document["importances"]

    @property
    def storage(self) -> str:
        return self.document["storage"]


def trial_value(trial: FrozenTrial) -> float | None:
    """A complete trial's value; for a pruned one the best value it reached before pruning."""
    if trial.state == TrialState.COMPLETE:
        return trial.value
    return trial.user_attrs.get("value", trial.value)


def leaderboard(study: optuna.Study, direction: str) -> list[dict[str, Any]]:
    sign = -1.0 if direction == "maximize" else 1.0
    rank = {TrialState.COMPLETE: 0, TrialState.PRUNED: 1, TrialState.FAIL: 2}

    def order(trial: FrozenTrial) -> tuple[int, float, int]:
        value = trial_value(trial)
        return rank[trial.state], sign * value if value is not None else 0.0, trial.number

    entries = []
    for trial in sorted(study.get_trials(deepcopy=False, states=tuple(rank)), key=order):
        entry = {
            "trial": trial.number,
            "value": trial_value(trial) if trial.state != TrialState.FAIL else None,
            "state": STATE_NAMES[trial.state],
            "params": dict(trial.params),
            "epochs": int(trial.user_attrs.get("epochs", len(trial.intermediate_values))),
            "run_dir": trial.user_attrs.get("run_dir"),
        }
        if "error" in trial.user_attrs:
            entry["error"] = trial.user_attrs["error"]
        entries.append(entry)
    return entries


def importances(study: optuna.Study) -> dict[str, float]:
    """fANOVA importances (Hutter et al., "An Efficient Approach for Assessing Hyperparameter
    Importance", ICML 2014): each parameter's share of the variance of the metric over the
    complete trials. Empty with fewer than two complete trials (nothing to explain)."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    try:
        found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (ValueError, RuntimeError):  # e.g. no parameter varies across the trials
        return {}
    return {name: float(value) for name, value in found.items()}


def write_best_config(plan: TunePlan, trial: FrozenTrial) -> Path:
    """``best.yaml``: the experiment with the trial's values, every default written out."""
    values = space.config_values(plan.tune.space, trial.params)
    document = load_config(plan.experiment, values).model_dump(mode="json")
    document.pop("tune", None)
    header = (
        f"# The best trial (#{trial.number}) of study '{plan.study}': {plan.metric} = "
        f"{trial.value:.6g}\n# Train it again with: gradwise train best.yaml\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return atomic_write_text(plan.study_dir / "best.yaml", header + body)


def write_results(study: optuna.Study, plan: TunePlan) -> TuneResult:
    """Write tune.json, best.yaml and the plots into the study directory."""
    board = leaderboard(study, plan.direction)
    counts = study_counts(study)
    weights = importances(study)
    best = best_trial(study)
    best_config = write_best_config(plan, best) if best is not None else None
    document = {
        "study": plan.study,
        "metric": plan.metric,
        "direction": plan.direction,
        "counts": {k: counts[k] for k in ("complete", "pruned", "failed")},
        "best": None,
        "leaderboard": board,
        "importances": weights,
        "storage": shown_url(plan.storage),
        "trials": plan.trials,
        "waiting": counts["waiting"] + counts["running"],
    }
    if best is not None:
        document["best"] = {
            "value": best.value,
            "params": dict(best.params),
            "trial": best.number,
            "run_dir": best.user_attrs.get("run_dir"),
        }
    plots.history_png(board, plan.metric, plan.direction, plan.study_dir / "history.png")
    plots.parallel_png(board, plan.tune.space, plan.metric, plan.study_dir / "parallel.png")
    plots.importances_png(weights, plan.metric, plan.study_dir / "importances.png")
    atomic_write_json(plan.study_dir / "tune.json", document)
    return TuneResult(plan.study_dir, best_config, counts, document)
