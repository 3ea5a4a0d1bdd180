"""``lab(name, config) -> LabResult``: plan and check, train the arms, write the lab's folder.

>>> import gradwise.lab
>>> result = gradwise.lab.lab("optimizers", "exp.yaml", seeds=3, workers=2)
>>> result.folder, result.document["rows"]["adam"]["best_mean"]

The folder ``<out>/<experiment>-<lab>-<timestamp>/`` holds ``lab.json`` (with
``format_version``), the PNG figures, ``lab.html`` (self-contained, the report's style) and
``runs/`` with every arm's run directory. Nothing is written before the experiment, its data
and every arm's config have been checked.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gradwise._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from gradwise.config.load import ConfigSource
from gradwise.errors import ConfigError
from gradwise.lab.base import LABS, Arm, Lab, select_arms
from gradwise.lab.jobs import Job, JobResult, interleaved
from gradwise.lab.plan import DEFAULT_SEEDS, LabPlan, plan_lab

FORMAT_VERSION = 1


@dataclass(frozen=True)
class LabResult:
    folder: Path
    document: dict[str, Any]
    table: tuple[list[str], list[list[Any]]]  # the result table the command line prints


def lab(
    name: str,
    config: ConfigSource,
    *,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    seeds: int = DEFAULT_SEEDS,
    budget: float | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    arms: Sequence[str] | None = None,
    lr_points: int = 4,
    lr_scaling: str = "sqrt",
    quiet: bool = True,
) -> LabResult:
    """Run the lab ``name`` (``optimizers``, ``batch``, ``regularization``) on an experiment.

    ``seeds`` repeats each arm; ``budget`` (seconds of training for the whole lab) is split
    evenly over its runs, each stopping at the first epoch end past its share; ``workers``
    trains that many runs at once in separate processes; ``arms`` picks some of the lab's arms.
    """
    plan = plan_lab(
        name,
        config,
        overrides=overrides,
        seeds=seeds,
        budget=budget,
        workers=workers,
        out=out,
        arms=arms,
        lr_points=lr_points,
        lr_scaling=lr_scaling,
    )
    plan = replace(plan, profile=_load_profile(plan))
    chosen = LABS.get(name)()
    selected = select_arms(chosen.arms(plan), plan.arm_names, name)
    _check_arms(plan, selected)
    from gradwise.runs import create_stamped_dir

    folder = create_stamped_dir(plan.out, f"{plan.name}-{name}").resolve()
    started = time.time()
    body = chosen.run(plan, selected, _job_runner(plan, folder / "runs", quiet))
    document = {
        "format_version": FORMAT_VERSION,
        "lab": name,
        "title": chosen.title,
        "question": chosen.question,
        "experiment": plan.name,
        "config": plan.origin,
        "data": plan.profile.get("source"),
        "metric": plan.metric,
        "higher_is_better": plan.higher_is_better,
        "seeds": list(plan.seeds),
        "budget": plan.budget,
        "workers": plan.workers,
        "arms": [
            {"name": a.name, "label": a.label, "overrides": dict(a.overrides), "note": a.note}
            for a in selected
        ],
        "seconds": time.time() - started,
        **body,
    }
    _write(folder, chosen, document)
    return LabResult(folder, document, chosen.table(document))


def _load_profile(plan: LabPlan) -> dict[str, Any]:
    """Load the data once: a missing file is one error now, not a failure in every run (and
    the workers then find the dataset cache warm)."""
    from gradwise.config import load_config
    from gradwise.tasks import load_data

    splits = load_data(load_config(plan.experiment))
    if splits is None:
        raise ConfigError(
            f"{plan.origin}: task: a lab compares runs on a dataset; this task has none"
        )
    return dict(splits.profile)


def _check_arms(plan: LabPlan, arms: Sequence[Arm]) -> None:
    """Every arm's config validates (an arm that does not fit this model is one clear error)."""
    from gradwise.config import load_config

    for arm in arms:
        try:
            load_config(plan.experiment, dict(arm.overrides))
        except ConfigError as exc:
            raise ConfigError(f"{plan.lab} lab, arm '{arm.name}': {exc}") from None


def _job_runner(plan: LabPlan, runs_dir: Path, quiet: bool):
    from gradwise.lab.workers import run_jobs

    def run(jobs: Sequence[Job]) -> list[JobResult]:
        def show(done: int) -> None:
            if not quiet:
                sys.stderr.write(f"\rlab {plan.lab}: {done}/{len(jobs)} runs")
                sys.stderr.flush()

        order = interleaved(jobs)
        done = run_jobs(plan.experiment, order, runs_dir, plan.metric, plan.workers, show)
        by_key = {result.key: result for result in done}
        results = [by_key[job.key] for job in jobs]
        if not quiet and jobs:
            sys.stderr.write("\n")
        return results

    return run


def redraw(folder: str | Path) -> Path:
    """Draw a lab folder's figures and page again from its ``lab.json`` (e.g. after an
    upgrade); returns the folder."""
    from gradwise._io import read_json
    from gradwise.lab import load_labs

    folder = Path(folder)
    document = read_json(folder / "lab.json")
    load_labs()
    _write(folder, LABS.get(document["lab"])(), document)
    return folder


def _write(folder: Path, chosen: Lab, document: dict[str, Any]) -> None:
    from gradwise.lab.page import render_lab_page

    figures = chosen.figures(document)
    for file_name, png in figures.items():
        atomic_write_bytes(folder / file_name, png)
    document["figures"] = sorted(figures)
    atomic_write_text(folder / "lab.html", render_lab_page(chosen, document, figures))
    atomic_write_json(folder / "lab.json", document)
