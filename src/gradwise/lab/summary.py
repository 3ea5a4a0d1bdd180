"""From the runs of an arm to its row: best metric over seeds, time and epochs to a target.

Target (one definition for every lab): ``TARGET_SHARE`` of the best arm's result — for a score
(accuracy, R², …) ``target = 0.95 · best``, for an error (RMSE, loss) ``target = best / 0.95``,
where ``best`` is the best arm's mean over seeds of each run's best validation value. A run
reaches the target at the first epoch whose validation value is at least as good; the time is
the training time up to the end of that epoch (validation excluded). An arm's time and epochs to
target are means over the seeds that reached it (``reached`` counts them).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from gradwise.lab.jobs import JobResult

TARGET_SHARE = 0.95
TARGET_TEXT = (
    "target = 95% of the best arm's mean best validation value (for an error: best / 0.95); "
    "time = training seconds to the first epoch at or past it (validation excluded), "
    "mean over the seeds that reached it"
)


def best_value(result: JobResult, higher: bool) -> float | None:
    """The run's best validation value over its epochs (None when it has none)."""
    values = [p["value"] for p in result.curve if "value" in p]
    if not values:
        return None
    return max(values) if higher else min(values)


def final_value(result: JobResult) -> float | None:
    values = [p["value"] for p in result.curve if "value" in p]
    return values[-1] if values else None


def mean_std(values: Iterable[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (0 for one value) of the values that exist."""
    kept = [v for v in values if v is not None and math.isfinite(v)]
    if not kept:
        return None, None
    return statistics.fmean(kept), statistics.stdev(kept) if len(kept) > 1 else 0.0


def target_for(best: float, higher: bool) -> float:
    return TARGET_SHARE * best if higher else best / TARGET_SHARE


def reached_at(result: JobResult, target: float, higher: bool) -> dict[str, float] | None:
    """The first epoch's point (epoch, time, …) at or past ``target``; None when never."""
    for point in result.curve:
        value = point.get("value")
        if value is not None and (value >= target if higher else value <= target):
            return point
    return None


def arm_summary(results: Sequence[JobResult], higher: bool) -> dict[str, Any]:
    """Best/final validation value (mean ± std over seeds), time, epochs, failures."""
    done = [r for r in results if r.curve]
    best_mean, best_std = mean_std(best_value(r, higher) for r in done)
    final_mean, final_std = mean_std(final_value(r) for r in done)
    time_mean, _ = mean_std(r.curve[-1]["time"] for r in done)
    return {
        "runs": len(results),
        "failed": sum(r.status != "completed" for r in results),
        "errors": sorted({r.error for r in results if r.error}),
        "best_mean": best_mean,
        "best_std": best_std,
        "final_mean": final_mean,
        "final_std": final_std,
        "train_seconds": time_mean,
        "epochs": statistics.fmean(r.epochs for r in done) if done else 0,
    }


def add_targets(
    rows: dict[str, dict[str, Any]], results: dict[str, list[JobResult]], higher: bool
) -> float | None:
    """Set each arm's ``time_to_target``, ``epochs_to_target``, ``reached``; returns the
    target (None when no arm has a value)."""
    bests = [row["best_mean"] for row in rows.values() if row["best_mean"] is not None]
    if not bests:
        return None
    target = target_for(max(bests) if higher else min(bests), higher)
    for arm, row in rows.items():
        points = [p for r in results[arm] if (p := reached_at(r, target, higher)) is not None]
        row["reached"] = len(points)
        row["time_to_target"] = mean_std(p["time"] for p in points)[0]
        row["epochs_to_target"] = mean_std(p["epoch"] for p in points)[0]
    return target


def mean_curve(results: Sequence[JobResult], x: str) -> dict[str, list[float]]:
    """The seeds' validation values averaged epoch by epoch (over the epochs all of them ran),
    with their min and max, against ``x`` (``epoch`` or ``time``, averaged too)."""
    curves = [[p for p in r.curve if "value" in p] for r in results]
    curves = [c for c in curves if c]
    if not curves:
        return {"x": [], "mean": [], "low": [], "high": []}
    length = min(len(c) for c in curves)
    columns = [[c[i] for c in curves] for i in range(length)]
    return {
        "x": [statistics.fmean(p[x] for p in points) for points in columns],
        "mean": [statistics.fmean(p["value"] for p in points) for points in columns],
        "low": [min(p["value"] for p in points) for points in columns],
        "high": [max(p["value"] for p in points) for points in columns],
    }


def plus_minus(mean: float | None, std: float | None, digits: int = 4) -> str:
    if mean is None:
        return "–"
    return f"{mean:.{digits}f} ± {std or 0.0:.{digits}f}"
