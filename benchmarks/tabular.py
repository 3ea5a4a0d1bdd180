"""Tables: gradwise's default recipe vs HistGradientBoosting vs RealMLP, on identical splits.

For every table and seed the three arms see the same rows:

- **gradwise**: the experiment ``gradwise init TABLE.csv --target COLUMN`` prints *when this
  script runs* (built by :func:`gradwise.config.templates.starting_config`, the function behind
  the ``init`` command; only ``seed`` is set and ``report.enabled`` is off), trained with
  :func:`gradwise.train`. Its test predictions come from ``run.predict`` on the test rows below.
- **hgb**: scikit-learn's ``HistGradientBoosting{Regressor,Classifier}`` with native categorical
  support (text columns as pandas categories) and early stopping on the validation rows
  (``X_val``/``y_val``; ``max_iter=1000`` so that early stopping, not the cap, ends the fit).
- **realmlp**: ``pytabkit``'s ``RealMLP_TD_{Regressor,Classifier}`` with its defaults
  (Holzmüller et al. 2024, "Better by default: strong pre-tuned MLPs and boosted trees on
  tabular data"), on the CPU with one thread, given the validation rows as ``X_val``/``y_val``
  so its best-epoch selection sees the same rows. It rejects missing numbers, so those are
  filled with the training rows' median (as gradwise imputes them).

The split: a table has no split column, so the benchmark writes the table (subsampled to
``--max-rows`` by the seed) as a CSV and takes the train/valid/test rows that gradwise's own
split gives that experiment and seed (``gradwise.tasks.load_data``: the fractions of the recipe,
stratified for classification); those row indices are handed to HGB and RealMLP. HGB and
RealMLP get every column but the target; if gradwise leaves a column out (a row index or an
identifier), the result line says so.

Figures: test RMSE (regression, target units) or accuracy (classification), and fit time in
wall seconds and in CPU seconds of the process (the steadier figure for one-thread fits on a
busy machine); gradwise's is the whole ``gradwise.train`` call: reading the CSV, preprocessing,
the leakage screen, training, checkpoints. Per table, each arm's score is the mean over seeds
and its *relative gap* to the best arm is::

    gap = rmse / best_rmse - 1                       (regression)
    gap = (best_accuracy - accuracy) / best_accuracy (classification)

so the best arm has gap 0. The summary gives gradwise's median gap over tables (goal <= 2%),
gradwise against RealMLP (goal: ahead on the median) and the fit-time ratio gradwise / RealMLP
(goal <= 1/10).

Each result is appended to ``--out`` as one JSON line as soon as it is measured. An HGB or
RealMLP result already in ``--out`` for the same table rows, seed, split and library version is
reused (they depend on nothing else), so a rerun after changing gradwise retrains only gradwise,
which is always measured afresh (``--no-reuse`` measures the peers again too).
``--summarize FILE`` prints the table from such a file (the last line of each table, seed and
arm counts; lines of an older split are left out). A reused result was timed at another moment:
on a busy shared machine compare the CPU seconds, or measure all arms side by side with
``--no-reuse``.

    OMP_NUM_THREADS=1 python benchmarks/tabular.py [--tables all|a,b] [--seeds 3]
        [--max-rows N] [--arms gradwise,hgb,realmlp] [--out tabular.jsonl] [--work DIR]
    python benchmarks/tabular.py --summarize tabular.jsonl

The issue's setting: ``--seeds 3`` for all but diamonds, and the diamonds tables with
``--max-rows 20000 --seeds 2`` (two invocations appending to the same ``--out``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SPLITS = ("train", "valid", "test")


# ------------------------------------------------------------------------------------ tables
@dataclass(frozen=True)
class Table:
    source: str  # rdata:PACKAGE/NAME or sklearn:NAME
    target: str
    task: str  # regression | classification (what HGB and RealMLP fit, and the metric)
    about: str


TABLES: dict[str, Table] = {
    "computers-price": Table(
        "rdata:Ecdat/Computers", "price", "regression", "6,259 PCs; numbers + 3 yes/no columns"
    ),
    "slid-wages": Table(
        "rdata:car/SLID", "wages", "regression", "4,147 labelled rows; noisy, missing values"
    ),
    "wages-lwage": Table(
        "rdata:Ecdat/Wages", "lwage", "regression", "4,165 rows; 7 of 11 inputs categorical"
    ),
    "diabetes": Table("sklearn:diabetes", "target", "regression", "442 rows; numeric only"),
    "diamonds-price": Table(
        "rdata:ggplot2/diamonds", "price", "regression", "53,940 rows; 3 ordinal categories"
    ),
    "diamonds-cut": Table(
        "rdata:ggplot2/diamonds", "cut", "classification", "53,940 rows; 5 classes"
    ),
    "chile-vote": Table(
        "rdata:car/Chile", "vote", "classification", "2,532 labelled rows; 4 classes, categorical"
    ),
    "hdma-deny": Table(
        "rdata:Ecdat/Hdma", "deny", "classification", "2,381 mortgages; binary, mixed columns"
    ),
    "breast-cancer": Table(
        "sklearn:breast_cancer", "target", "classification", "569 rows; 30 numbers, binary"
    ),
}


def read_table(source: str) -> pd.DataFrame:
    """A bundled table as a DataFrame (nothing is downloaded)."""
    kind, _, name = source.partition(":")
    return TABLE_READERS[kind](name)


def _rdata_table(name: str) -> pd.DataFrame:
    from gradwise.data.rdata import read_rdata_table

    return read_rdata_table(name)


def _sklearn_table(name: str) -> pd.DataFrame:
    import sklearn.datasets

    return getattr(sklearn.datasets, f"load_{name}")(as_frame=True).frame


TABLE_READERS: dict[str, Callable[[str], pd.DataFrame]] = {
    "rdata": _rdata_table,
    "sklearn": _sklearn_table,
}


# ------------------------------------------------------------------------------------- cases
@dataclass
class Case:
    """One table and seed: the rows every arm gets, and gradwise's experiment for them."""

    name: str
    table: Table
    seed: int
    frame: pd.DataFrame  # the table as written to ``csv`` (subsampled when capped)
    csv: Path
    config: dict[str, Any]  # the init recipe with this seed
    recipe: str  # hash of the recipe (the config without name, seed and source)
    rows: dict[str, np.ndarray]  # split -> row indices into ``frame``
    split: str  # hash of the three index arrays
    left_out: dict[str, str] = field(default_factory=dict)  # gradwise's left-out columns
    rows_full: int = 0  # rows of the table before subsampling

    def key(self, arm: str) -> tuple:
        """What a peer's result depends on: reused from ``--out`` only when all of it matches."""
        return (self.name, len(self.frame), self.seed, arm, self.split, library_version(arm))

    def inputs(self) -> pd.DataFrame:
        """Every column but the target; text columns as pandas categories (what HGB's native
        categorical support and RealMLP's embeddings read)."""
        inputs = self.frame.drop(columns=[self.table.target])
        for column in inputs.columns:
            if not pd.api.types.is_numeric_dtype(inputs[column]):
                inputs[column] = inputs[column].astype("category")
        return inputs

    def part(self, inputs: pd.DataFrame, split: str) -> tuple[pd.DataFrame, np.ndarray]:
        rows = self.rows[split]
        return inputs.iloc[rows], self.targets()[rows]

    def targets(self) -> np.ndarray:
        values = self.frame[self.table.target]
        if self.table.task == "regression":
            return values.to_numpy(dtype=np.float64)
        return values.astype(str).to_numpy()


def make_case(name: str, seed: int, max_rows: int | None, work: Path) -> Case:
    """Write the table (subsampled by ``seed`` to ``max_rows``) as a CSV, print its init recipe
    and take the split gradwise makes for that recipe and seed."""
    import yaml

    from gradwise.config.templates import starting_config

    table = TABLES[name]
    frame = read_table(table.source)
    rows_full = len(frame)
    if max_rows is not None and len(frame) > max_rows:
        chosen = np.sort(np.random.default_rng(seed).choice(len(frame), max_rows, replace=False))
        frame = frame.iloc[chosen].reset_index(drop=True)
    csv = work / f"{name}-{len(frame)}-seed{seed}.csv"
    frame.to_csv(csv, index=False)
    frame = pd.read_csv(csv)  # exactly what gradwise reads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = starting_config(str(csv), target=table.target)
    config = yaml.safe_load(text)
    recipe = {key: value for key, value in config.items() if key not in ("name", "seed")}
    recipe["data"] = {key: value for key, value in config["data"].items() if key != "source"}
    config.update(name=name, seed=seed)
    config["report"] = {**config.get("report", {}), "enabled": False}
    rows, left_out = gradwise_split(config)
    return Case(
        name,
        table,
        seed,
        frame,
        csv,
        config,
        _digest(json.dumps(recipe, sort_keys=True).encode()),
        rows,
        _digest(b"".join(rows[split].astype(np.int64).tobytes() for split in SPLITS)),
        left_out,
        rows_full,
    )


def gradwise_split(config: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The rows of each split of ``config``'s data, exactly as ``gradwise.train`` makes them,
    and the columns gradwise leaves out (with why)."""
    from gradwise.config import load_config
    from gradwise.tasks import load_data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = load_data(load_config(config))
    rows = {split: np.asarray(splits.indices[split], dtype=np.int64) for split in SPLITS}
    return rows, dict(splits.profile.get("left_out_columns", {}))


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:12]


# -------------------------------------------------------------------------------------- arms
@dataclass
class Fit:
    predictions: np.ndarray  # test predictions, in target units / labels
    fit: tuple[float, float]  # (wall, CPU) seconds of the fit
    predict_s: float
    details: dict[str, Any] = field(default_factory=dict)


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds since ``start``: on a busy shared machine the CPU seconds of a
    one-thread fit are the steadier figure."""
    return time.perf_counter() - start[0], time.process_time() - start[1]


def fit_gradwise(case: Case, work: Path) -> Fit:
    import gradwise

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = clock()
        run = gradwise.train(case.config, out=work / "runs", quiet=True)
        fit = since(start)
        test = case.frame.iloc[case.rows["test"]]
        start = time.perf_counter()
        predictions = np.ravel(np.asarray(run.predict(test[run.feature_columns])))
        predict_s = time.perf_counter() - start
    summary = run.summary
    said = list(dict.fromkeys(str(w.message)[:200] for w in caught if _worth_keeping(w)))
    details = {
        "task": case.config.get("task"),
        "reported_test": summary.get("test"),
        "epochs_run": len(run.metrics),
        "best_epoch": summary.get("best_epoch"),
        "parameters": summary.get("parameters"),
        "input_columns": len(run.feature_columns or []),
        "left_out": case.left_out,
        "warnings": said[:8],
        "recipe": {k: v for k, v in case.config.items() if k in ("task", "data", "model", "train")},
    }
    return Fit(predictions, fit, predict_s, details)


def _worth_keeping(caught: warnings.WarningMessage) -> bool:
    """gradwise's own warnings (not third-party deprecation noise)."""
    return not issubclass(caught.category, DeprecationWarning | FutureWarning)


def fit_hgb(case: Case, work: Path) -> Fit:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    estimator = (
        HistGradientBoostingRegressor
        if case.table.task == "regression"
        else HistGradientBoostingClassifier
    )
    model = estimator(
        max_iter=1000,
        early_stopping=True,
        categorical_features="from_dtype",
        random_state=case.seed,
    )
    fit = fit_and_predict(model, case, case.inputs())
    fit.details["iterations"] = int(model.n_iter_)
    return fit


def fit_and_predict(model: Any, case: Case, inputs: pd.DataFrame) -> Fit:
    """Fit a peer on the case's training rows (its validation rows as ``X_val``/``y_val``) and
    predict the test rows, timing both."""
    (x_train, y_train), (x_valid, y_valid) = (case.part(inputs, s) for s in ("train", "valid"))
    start = clock()
    model.fit(x_train, y_train, X_val=x_valid, y_val=y_valid)
    fit = since(start)
    start = time.perf_counter()
    predictions = model.predict(case.part(inputs, "test")[0])
    return Fit(np.ravel(predictions), fit, time.perf_counter() - start)


def fit_realmlp(case: Case, work: Path) -> Fit:
    import torch
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    torch.set_num_threads(1)
    estimator = RealMLP_TD_Regressor if case.table.task == "regression" else RealMLP_TD_Classifier
    model = estimator(device="cpu", random_state=case.seed, n_threads=1, verbosity=0)
    inputs = case.inputs()
    numeric = [c for c in inputs.columns if pd.api.types.is_numeric_dtype(inputs[c])]
    medians = inputs.iloc[case.rows["train"]][numeric].median()
    inputs[numeric] = inputs[numeric].fillna(medians)  # RealMLP takes no missing numbers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pytorch-lightning's deprecation lines
        return fit_and_predict(model, case, inputs)


ARMS: dict[str, Callable[[Case, Path], Fit]] = {
    "gradwise": fit_gradwise,
    "hgb": fit_hgb,
    "realmlp": fit_realmlp,
}
LIBRARIES = {"gradwise": "gradwise", "hgb": "scikit-learn", "realmlp": "pytabkit"}
# Results that depend only on the rows and the library: reused from --out. gradwise is always
# measured (its code may change without its recipe's text changing).
REUSABLE = ("hgb", "realmlp")


def library_version(arm: str) -> str:
    from importlib.metadata import version

    return f"{LIBRARIES[arm]} {version(LIBRARIES[arm])}"


# ----------------------------------------------------------------------------------- metrics
def rmse(predictions: np.ndarray, targets: np.ndarray) -> float:
    errors = np.asarray(predictions, dtype=np.float64) - targets
    return float(np.sqrt(np.mean(errors**2)))


def accuracy(predictions: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean(np.asarray(predictions).astype(str) == targets))


# task -> (metric name, metric, higher is better)
METRICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], float], bool]] = {
    "regression": ("rmse", rmse, False),
    "classification": ("accuracy", accuracy, True),
}


def relative_gap(score: float, best: float, higher_is_better: bool) -> float:
    """How far ``score`` is behind ``best``, as a share of ``best`` (0 for the best)."""
    if higher_is_better:
        return (best - score) / best
    return score / best - 1.0


# --------------------------------------------------------------------------------- measuring
def measure(case: Case, arm: str, work: Path) -> dict[str, Any]:
    """One arm on one case, as a JSON-able result line (an ``error`` instead of a score when
    the fit fails)."""
    metric, score_of, _ = METRICS[case.table.task]
    record: dict[str, Any] = {
        "table": case.name,
        "source": case.table.source,
        "target": case.table.target,
        "task": case.table.task,
        "rows": len(case.frame),
        "rows_full": case.rows_full,
        "seed": case.seed,
        "arm": arm,
        "metric": metric,
        "split": {**{s: len(case.rows[s]) for s in SPLITS}, "hash": case.split},
        "library": library_version(arm),
    }
    if arm == "gradwise":
        record["recipe"] = case.recipe
    try:
        fit = ARMS[arm](case, work)
    except Exception as exc:  # one failed arm is a result line, not the end of the benchmark
        record.update(score=None, error=f"{type(exc).__name__}: {exc}"[:400])
        return record
    targets = case.targets()[case.rows["test"]]
    record.update(
        score=score_of(fit.predictions, targets),
        fit_s=round(fit.fit[0], 3),
        fit_cpu_s=round(fit.fit[1], 3),
        predict_s=round(fit.predict_s, 3),
        details=fit.details,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return record


def result_key(record: dict[str, Any]) -> tuple:
    """:meth:`Case.key` of a result line."""
    return (
        record["table"],
        record["rows"],
        record["seed"],
        record["arm"],
        record["split"]["hash"],
        record.get("library"),
    )


def read_results(path: Path) -> list[dict[str, Any]]:
    from gradwise._io import read_jsonl

    return read_jsonl(path)


def run_benchmark(args: argparse.Namespace) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if not args.no_reuse:
        done = {result_key(r) for r in read_results(out) if r.get("score") is not None}
    with tempfile.TemporaryDirectory(prefix="tabular-") as scratch, threadpool_limits(1):
        work = Path(args.work) if args.work else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        for t, name in enumerate(args.tables):
            for seed in range(args.seeds):
                try:
                    case = make_case(name, seed, args.max_rows, work)
                except Exception as exc:  # no split, so nothing to measure for this case
                    print(f"{name} seed {seed}: FAILED to prepare: {exc}", flush=True)
                    continue
                shift = (t + seed) % len(args.arms)  # interleaved: no arm always goes first
                for arm in args.arms[shift:] + args.arms[:shift]:
                    if arm in REUSABLE and case.key(arm) in done:
                        print(f"{name} seed {seed} {arm}: in {out} already", flush=True)
                        continue
                    record = measure(case, arm, work)
                    with out.open("a", encoding="utf-8") as stream:
                        stream.write(json.dumps(record, default=str) + "\n")
                    print(_progress_line(record), flush=True)
    print()
    print_summary(read_results(out))


def _progress_line(record: dict[str, Any]) -> str:
    head = f"{record['table']} ({record['rows']} rows) seed {record['seed']} {record['arm']}"
    if record.get("score") is None:
        return f"{head}: FAILED {record['error']}"
    return (
        f"{head}: {record['metric']} {record['score']:.4g}, "
        f"fit {record['fit_s']:.1f} s ({record['fit_cpu_s']:.1f} s CPU)"
    )


# --------------------------------------------------------------------------------- summarize
def latest_results(records: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """(table label, seed, arm) -> the last line for it, where every arm of a (table, seed)
    kept has the split of that (table, seed)'s last line (older splits are stale)."""
    latest: dict[tuple, dict[str, Any]] = {}
    split_of: dict[tuple, str] = {}
    for record in records:
        label = _label(record)
        latest[(label, record["seed"], record["arm"])] = record
        split_of[(label, record["seed"])] = record["split"]["hash"]
    return {
        key: record
        for key, record in latest.items()
        if record["split"]["hash"] == split_of[key[:2]]
    }


def _label(record: dict[str, Any]) -> str:
    """The table's name, with its row count when it was subsampled (``diamonds-cut@20000``)."""
    capped = record["rows"] < record.get("rows_full", record["rows"])
    return f"{record['table']}@{record['rows']}" if capped else record["table"]


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per table: each arm's mean score and fit times over seeds and its relative gap to the
    best arm; then the medians and the fit-time ratios gradwise / RealMLP."""
    latest = latest_results(records)
    tables: dict[str, dict[str, Any]] = {}
    for (label, _, arm), record in latest.items():
        entry = tables.setdefault(label, {"task": record["task"], "metric": record["metric"]})
        slot = entry.setdefault("arms", {}).setdefault(arm, {"runs": [], "failed": 0})
        if record.get("score") is None:
            slot["failed"] += 1
        else:
            slot["runs"].append(record)
    for entry in tables.values():
        higher = METRICS[entry["task"]][2]
        scored = [slot for slot in entry["arms"].values() if slot["runs"]]
        for slot in scored:
            slot["score"] = statistics.fmean(r["score"] for r in slot["runs"])
            slot["fit_s"] = statistics.fmean(r["fit_s"] for r in slot["runs"])
            slot["fit_cpu_s"] = statistics.fmean(_cpu(r) for r in slot["runs"])
        if scored:
            best = (max if higher else min)(slot["score"] for slot in scored)
            for slot in scored:
                slot["gap"] = relative_gap(slot["score"], best, higher)
    return {"tables": tables, "overall": _overall(tables, latest)}


def _cpu(record: dict[str, Any]) -> float:
    return record.get("fit_cpu_s", record["fit_s"])


def _overall(tables: dict[str, dict[str, Any]], latest: dict[tuple, dict]) -> dict[str, Any]:
    def gaps(arm: str) -> list[float]:
        return [e["arms"][arm]["gap"] for e in tables.values() if "gap" in e["arms"].get(arm, {})]

    overall: dict[str, Any] = {
        f"median_gap_{arm}": statistics.median(gaps(arm)) for arm in ARMS if gaps(arm)
    }
    versus = [
        relative_gap(e["arms"]["gradwise"]["score"], e["arms"]["realmlp"]["score"], higher)
        for e in tables.values()
        if all("score" in e["arms"].get(a, {}) for a in ("gradwise", "realmlp"))
        for higher in [METRICS[e["task"]][2]]
    ]
    if versus:  # > 0: gradwise behind RealMLP by that share of RealMLP's score
        overall["median_gradwise_vs_realmlp"] = statistics.median(versus)
        overall["tables_gradwise_ahead_of_realmlp"] = sum(v < 0 for v in versus)
        overall["tables_compared_with_realmlp"] = len(versus)
    pairs = [  # (gradwise, RealMLP) results of the same (table, seed)
        (latest[(label, seed, "gradwise")], record)
        for (label, seed, arm), record in latest.items()
        if arm == "realmlp"
        and record.get("score") is not None
        and latest.get((label, seed, "gradwise"), {}).get("score") is not None
    ]
    for name, seconds in (("wall", lambda r: r["fit_s"]), ("cpu", _cpu)):
        if pairs:
            total = sum(seconds(g) for g, _ in pairs) / sum(seconds(r) for _, r in pairs)
            overall[f"fit_ratio_{name}_total"] = total
            overall[f"fit_ratio_{name}_median"] = statistics.median(
                seconds(g) / seconds(r) for g, r in pairs
            )
    return overall


def print_summary(records: list[dict[str, Any]]) -> None:
    if not records:
        print("no results yet")
        return
    summary = summarize(records)
    arms = [arm for arm in ARMS if any(arm in e["arms"] for e in summary["tables"].values())]
    header = f"{'table':<22}{'metric':<9}{'seeds':>5}"
    header += "".join(f" | {arm:>8} {'gap':>6} {'fit s':>7} {'CPU s':>7}" for arm in arms)
    print(header)
    print("-" * len(header))
    for label, entry in sorted(summary["tables"].items()):
        seeds = max(len(slot["runs"]) for slot in entry["arms"].values())
        line = f"{label:<22}{entry['metric']:<9}{seeds:>5}"
        for arm in arms:
            slot = entry["arms"].get(arm, {})
            if "score" in slot:
                line += f" | {slot['score']:>8.4g} {slot['gap']:>6.1%}"
                line += f" {slot['fit_s']:>7.1f} {slot['fit_cpu_s']:>7.1f}"
            else:
                line += f" | {'failed' if slot.get('failed') else '-':>8} {'':>6} {'':>7} {'':>7}"
        print(line)
    overall = summary["overall"]
    print()
    for arm in arms:
        if f"median_gap_{arm}" in overall:
            goal = "  (goal for gradwise: <= 2.0%)" if arm == "gradwise" else ""
            print(f"median gap to the best, {arm:<9}{overall[f'median_gap_{arm}']:>7.2%}{goal}")
    if "median_gradwise_vs_realmlp" in overall:
        print(
            f"gradwise vs RealMLP, median relative difference: "
            f"{overall['median_gradwise_vs_realmlp']:+.2%} (negative: gradwise ahead; "
            f"ahead on {overall['tables_gradwise_ahead_of_realmlp']} of "
            f"{overall['tables_compared_with_realmlp']} tables)"
        )
    for name in ("wall", "cpu"):
        if f"fit_ratio_{name}_total" in overall:
            print(
                f"fit time gradwise / RealMLP ({name}): "
                f"{overall[f'fit_ratio_{name}_total']:.3f} all fits together, "
                f"{overall[f'fit_ratio_{name}_median']:.3f} median per fit  (goal <= 0.100)"
            )


# ----------------------------------------------------------------------------------- command
def _names(text: str, choices: dict[str, Any], what: str, parser: argparse.ArgumentParser):
    from gradwise.errors import did_you_mean

    names = list(choices) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in choices:
            parser.error(
                f"--{what}: unknown name '{name}'{did_you_mean(name, choices)}; "
                f"choose from: {', '.join(choices)} (or all)"
            )
    if not names:
        parser.error(f"--{what}: name at least one of {', '.join(choices)}")
    return names


def main(argv: list[str] | None = None) -> int:
    tables = "\n".join(
        f"  {name:<16}{t.source} -> {t.target}: {t.about}" for name, t in TABLES.items()
    )
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=f"tables:\n{tables}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tables", default="all", help=f"all, or some of {', '.join(TABLES)}")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--max-rows", type=int, default=None, help="subsample larger tables")
    parser.add_argument("--arms", default="all", help=f"all, or some of {', '.join(ARMS)}")
    parser.add_argument("--out", default="tabular.jsonl", help="JSON lines, appended")
    parser.add_argument("--work", default=None, help="keep the CSVs and runs here")
    parser.add_argument(
        "--no-reuse", action="store_true", help="measure HGB and RealMLP again (gradwise always is)"
    )
    parser.add_argument("--summarize", metavar="FILE", help="print the table of a results file")
    args = parser.parse_args(argv)
    if args.summarize:
        path = Path(args.summarize)
        if not path.is_file():
            parser.error(f"--summarize: no such file: {path}")
        from gradwise.errors import GradwiseError

        try:
            print_summary(read_results(path))
        except (GradwiseError, KeyError, TypeError) as exc:
            parser.error(f"--summarize: {path} is not a results file of this benchmark ({exc})")
        return 0
    if args.seeds < 1:
        parser.error(f"--seeds: give 1 or more, got {args.seeds}")
    if args.max_rows is not None and args.max_rows < 100:
        parser.error(f"--max-rows: give 100 or more, got {args.max_rows}")
    args.tables = _names(args.tables, TABLES, "tables", parser)
    args.arms = _names(args.arms, ARMS, "arms", parser)
    run_benchmark(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
