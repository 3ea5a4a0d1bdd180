"""Data larger than memory: peak memory and throughput of training on a streamed Parquet file.

Three arms, each one epoch in a fresh process (its peak RSS is its own):

- ``in-memory``: a file that fits (``--small-rows`` rows), read whole (``data.stream: false``);
- ``streamed``: the same file, read in chunks (``data.stream: true``);
- ``streamed-big``: a generated file of ≥ 4 GB (``--big-rows`` rows), read in chunks.

Prints rows/s of training (``train_time`` of the summary) and the peak RSS of each arm.

    python benchmarks/streaming.py [--big-rows 27000000] [--small-rows 1000000] [--dir /tmp/gw]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

COLUMNS = 20
ROW_GROUP = 1_000_000


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    """``rows`` × 20 float64 features and a binary label, written a row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=COLUMNS)
    writer = None
    partial = path.with_suffix(".partial")
    for start in range(0, rows, ROW_GROUP):
        n = min(ROW_GROUP, rows - start)
        x = rng.normal(size=(n, COLUMNS))
        label = (x @ weights + rng.normal(scale=0.5, size=n) > 0).astype(np.int64)
        table = pa.table({**{f"f{i}": x[:, i] for i in range(COLUMNS)}, "label": label})
        writer = writer or pq.ParquetWriter(partial, table.schema)
        writer.write_table(table)
    writer.close()
    partial.rename(path)


ARM = """
import json, resource, sys, gradwise
source, stream, out = sys.argv[1], sys.argv[2] == "true", sys.argv[3]
config = {
    "name": "stream-bench",
    "data": {"source": source, "target": "label", "stream": stream, "valid": 0.01, "test": 0.01},
    "model": {"kind": "mlp", "hidden": [64, 64]},
    "train": {"epochs": 1, "batch_size": 1024, "device": "cpu"},
    "diagnose": {"enabled": False},
    "report": {"enabled": False},
}
run = gradwise.train(config, out=out)
summary = run.summary
print(json.dumps({
    "train_time": summary["train_time"],
    "fit_time": summary["fit_time"],
    "accuracy": summary["test"]["accuracy"],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_arm(source: Path, stream: bool, out: Path, train_rows: int) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", ARM, str(source), str(stream).lower(), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - started
    figures["rows_per_s"] = train_rows / figures["train_time"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-rows", type=int, default=27_000_000)
    parser.add_argument("--small-rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/gradwise-streaming"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    small, big = args.dir / "small.parquet", args.dir / "big.parquet"
    write_table(small, args.small_rows)
    write_table(big, args.big_rows, seed=1)
    print(
        f"small file {small.stat().st_size / 2**30:.2f} GiB, big file "
        f"{big.stat().st_size / 2**30:.2f} GiB",
        flush=True,
    )
    arms = [
        ("in-memory", small, False, args.small_rows),
        ("streamed", small, True, args.small_rows),
        ("streamed-big", big, True, args.big_rows),
    ]
    print(f"{'arm':<14}{'rows/s':>12}{'peak RSS MB':>14}{'wall s':>9}{'accuracy':>10}")
    for name, source, stream, rows in arms:
        figures = run_arm(source, stream, args.dir / "runs", int(rows * 0.98))
        print(
            f"{name:<14}{figures['rows_per_s']:>12,.0f}{figures['peak_rss_mb']:>14,.0f}"
            f"{figures['wall_s']:>9.1f}{figures['accuracy']:>10.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
