"""Load on ``gradwise serve``: requests/s and p50/p99 latency at concurrency 1 and 8, for
single-row and 64-row ``POST /predict`` requests.

    python benchmarks/serve_load.py [--run RUN] [--dataset iris|mnist1d] [--seconds 5]
                                    [--threads 1] [--batch-rows 1024]

Without ``--run`` a run is trained first (iris: MLP 4→64→64→3; mnist1d: MLP 40→256→256→10,
10 epochs). The server is a real ``gradwise serve`` process on a free port; each client is a
thread with its own keep-alive HTTP connection sending ``rows`` taken from the run's test data.
Every setting runs for ``--seconds`` after a short warm-up; latency is per request, from send
to the parsed answer. On a small machine the clients share the cores with the server, so the
figures are a floor for what the server does alone.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

RECIPES = {
    "iris": {
        "data": {"source": "sklearn:iris"},
        "model": {"kind": "mlp", "hidden": [64, 64]},
        "train": {"epochs": 30, "batch_size": 16, "device": "cpu"},
    },
    "mnist1d": {
        "data": {"source": "mnist1d"},
        "model": {"kind": "mlp", "hidden": [256, 256]},
        "train": {"epochs": 10, "batch_size": 128, "device": "cpu"},
    },
}


def train_run(dataset: str, out: Path) -> Path:
    import gradwise

    config = {"name": f"serve-{dataset}", **RECIPES[dataset], "report": {"enabled": False}}
    return gradwise.train(config, out=out).path


def start_server(run: Path, threads: int, batch_rows: int) -> tuple[subprocess.Popen, str, int]:
    command = ["serve", str(run), "--port", "0", "--threads", str(threads)]
    command += ["--batch-rows", str(batch_rows)]
    process = subprocess.Popen(
        [sys.executable, "-m", "gradwise.cli.main", *command],
        stdout=subprocess.PIPE,
        text=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], 120)
    line = process.stdout.readline() if ready else ""
    if "http://" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    address = line.split(" at http://")[1].split()[0]
    host, port = address.rsplit(":", 1)
    return process, host, int(port)


def example_rows(run: Path, size: int) -> list[list[float]]:
    """``size`` rows of the dataset's raw inputs, in the run's input order."""
    import gradwise
    from gradwise.data.sources import read_source

    loaded = gradwise.Run(run)
    raw = read_source(loaded.config.data, loaded.config.seed)
    if raw.table is not None:
        return raw.table[loaded.feature_columns].iloc[:size].to_numpy().tolist()
    return np.asarray(raw.x[:size], dtype=np.float64).reshape(size, -1).tolist()


def measure(
    host: str, port: int, body: bytes, clients: int, seconds: float
) -> tuple[float, list[float]]:
    """Requests/s over ``seconds`` and every request's latency (s), ``clients`` at once."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = threading.Event()
    failures: list[str] = []

    def client(i: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        headers = {"Content-Type": "application/json"}
        while not stop.is_set():
            started = time.perf_counter()
            connection.request("POST", "/predict", body, headers)
            answer = connection.getresponse()
            payload = answer.read()
            if answer.status != 200:
                failures.append(payload.decode())
                return
            json.loads(payload)
            latencies[i].append(time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"a request failed: {failures[0]}")
    every = [t for per_client in latencies for t in per_client]
    return len(every) / elapsed, every


def service_time(run: Path, rows: list[list[float]], threads: int, repeats: int = 200) -> float:
    """Seconds per request inside the server's predictor (payload → answer), without HTTP."""
    import torch

    from gradwise.serving.payload import Limits, read_payload
    from gradwise.serving.predictor import Predictor

    torch.set_num_threads(threads)
    predictor = Predictor(run)
    document = {"rows": rows}
    for _ in range(20):
        predictor.predict(read_payload(document, predictor.layout, Limits()))
    started = time.perf_counter()
    for _ in range(repeats):
        predictor.predict(read_payload(document, predictor.layout, Limits()))
    return (time.perf_counter() - started) / repeats


def batching_gain(run: Path, threads: int, seconds: float = 3.0, pairs: int = 3) -> list[float]:
    """In-process, 8 threads sending one-row requests to one predictor: requests/s with
    batching on (1024 rows) over off (0), per interleaved pair."""
    import torch

    from gradwise.serving.payload import Limits, read_payload
    from gradwise.serving.predictor import Predictor

    torch.set_num_threads(threads)
    predictor = Predictor(run)
    document = {"rows": example_rows(run, 1)}

    def rate(batch_rows: int) -> float:
        predictor.max_batch_rows = batch_rows
        stop = threading.Event()
        counts = [0] * 8

        def client(i: int) -> None:
            while not stop.is_set():
                predictor.predict(read_payload(document, predictor.layout, Limits()))
                counts[i] += 1

        workers = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        time.sleep(seconds)
        stop.set()
        for worker in workers:
            worker.join()
        return sum(counts) / (time.perf_counter() - started)

    rate(0), rate(1024)  # warm-up
    return [rate(1024) / rate(0) for _ in range(pairs)]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=None, help="a trained run (default: train)")
    parser.add_argument("--dataset", choices=sorted(RECIPES), default="iris")
    parser.add_argument("--seconds", type=float, default=5.0, help="per setting")
    parser.add_argument("--threads", type=int, default=1, help="gradwise serve --threads")
    parser.add_argument(
        "--batch-rows", type=int, default=1024, help="gradwise serve --batch-rows (0: off)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        run = args.run or train_run(args.dataset, Path(folder))
        process, host, port = start_server(run, args.threads, args.batch_rows)
        try:
            results = []
            for rows in (1, 64):
                example = example_rows(run, rows)
                body = json.dumps({"rows": example}).encode()
                in_process = service_time(run, example, args.threads)
                for clients in (1, 8):
                    measure(host, port, body, clients, min(1.0, args.seconds))  # warm-up
                    rate, latencies = measure(host, port, body, clients, args.seconds)
                    results.append(
                        {
                            "rows_per_request": rows,
                            "concurrency": clients,
                            "requests": len(latencies),
                            "requests_per_s": rate,
                            "rows_per_s": rate * rows,
                            "p50_ms": 1000 * statistics.median(latencies),
                            "p99_ms": 1000 * percentile(latencies, 99),
                            "in_process_ms": 1000 * in_process,
                        }
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)
        gains = batching_gain(run, args.threads)

    if args.json:
        print(json.dumps({"settings": results, "batching_gain": gains}, indent=2))
        return
    load = os.getloadavg()[0]
    name = run.name if args.run else args.dataset
    print(f"gradwise serve {name}: {os.cpu_count()} CPU cores, load average {load:.1f} at the end")
    print(
        f"{'rows/req':>8} {'clients':>7} {'requests':>8} {'req/s':>8} {'rows/s':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'in-process ms':>13}"
    )
    for r in results:
        print(
            f"{r['rows_per_request']:>8} {r['concurrency']:>7} {r['requests']:>8} "
            f"{r['requests_per_s']:>8.1f} {r['rows_per_s']:>9.0f} {r['p50_ms']:>7.2f} "
            f"{r['p99_ms']:>7.2f} {r['in_process_ms']:>13.2f}"
        )
    print("in-process: the predictor alone (payload to answer), no HTTP, one request at a time")
    print(
        "batching, in-process, 8 threads, 1-row requests: req/s on/off per pair "
        + ", ".join(f"{g:.2f}" for g in gains)
        + f" (median {statistics.median(gains):.2f})"
    )


if __name__ == "__main__":
    main()
