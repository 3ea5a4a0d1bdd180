"""A table with an ID column and a timestamp: peak memory and time per epoch.

The file: a customer ID (unique per row), an ISO timestamp, two numbers and a 3-value category,
with a target from the numbers and the category. Each arm trains 3 epochs in a fresh process
and reports its peak RSS and the mean time per epoch. ``--source DIR`` runs the same with
another checkout's ``src`` (e.g. a version that one-hot encoded the ID and the timestamp).

    python benchmarks/id_columns.py [--rows 20000 200000] [--source OTHER/src]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ARM = """
import json, resource, sys, warnings
warnings.simplefilter("ignore")
import gradwise
run = gradwise.train({
    "name": "ids", "task": "regression",
    "data": {"source": sys.argv[1], "target": "spend"},
    "model": {"kind": "mlp", "hidden": [256, 256]},
    "train": {"epochs": 3, "batch_size": 256, "device": "cpu"},
    "diagnose": {"enabled": False}, "report": {"enabled": False},
}, out=sys.argv[2])
metrics = run.metrics
print(json.dumps({
    "features": run.preprocessor.feature_shape[0],
    "parameters": run.summary["parameters"],
    "epoch_s": sum(m["time"] for m in metrics) / len(metrics),
    "test_r2": run.summary["test"]["r2"],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:08d}" for i in rng.permutation(rows)],
            "timestamp": pd.date_range("2020-01-01", periods=rows, freq="11min").astype(str),
            "amount": rng.gamma(2.0, 30.0, size=rows),
            "age": rng.integers(18, 90, size=rows),
            "segment": rng.choice(["retail", "business", "premium"], size=rows),
        }
    )
    frame["spend"] = (
        0.5 * frame["amount"]
        + 0.2 * frame["age"]
        + 15 * (frame["segment"] == "premium")
        + rng.normal(scale=5, size=rows)
    )
    frame.to_csv(path, index=False)


def run_arm(table: Path, out: Path, source: str | None) -> dict:
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = source
    result = subprocess.run(
        [sys.executable, "-c", ARM, str(table), str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        return {"failed": result.stderr.strip().splitlines()[-1][:120]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--source", default=None, help="another checkout's src folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            table = Path(folder) / f"ids-{rows}.csv"
            write_table(table, rows)
            figures = run_arm(table, Path(folder) / "runs", args.source)
            print(json.dumps({"rows": rows, "source": args.source or "this", **figures}))


if __name__ == "__main__":
    main()
