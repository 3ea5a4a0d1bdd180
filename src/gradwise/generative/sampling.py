"""Samples and embeddings of a finished run (``gradwise sample``, ``gradwise embed``, the
report): reproducible by seed, read through :class:`gradwise.api.Run`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from gradwise.errors import CheckpointError, ConfigError
from gradwise.generative.clustering import cluster
from gradwise.generative.embedding import embed
from gradwise.generative.grids import check_output, write_samples

MAX_SAMPLES = 100_000


def _check_task(run: Any, able: str, verb: str, tasks: str) -> None:
    if not hasattr(run.model, able):
        raise CheckpointError(
            f"{run.path}: {article(run.config.task)} {run.config.task} run cannot {verb}; "
            f"{verb} takes {tasks} runs"
        )


def draw_samples(run: Any, n: int, seed: int) -> tuple[np.ndarray, list[Any] | None]:
    """``n`` samples of a vae or gan run (preprocessed space, (n, *shape)) drawn with
    ``seed``, and their class labels when the generator is conditional."""
    if not 1 <= n <= MAX_SAMPLES:
        raise ConfigError(f"-n: expected a number of samples from 1 to {MAX_SAMPLES}, got {n}")
    _check_task(run, "sample", "sample", "vae and gan")
    module = run.model.cpu().eval()
    generator = torch.Generator().manual_seed(seed)
    samples, labels = run.task.sample(module, n, generator)
    names = None
    if labels is not None and run.preprocessor.classes is not None:
        names = [run.preprocessor.classes[i] for i in labels.tolist()]
    return samples.float().cpu().numpy(), names


def sample_to_file(run: Any, n: int, seed: int, output: str | Path) -> dict[str, Any]:
    """Draw samples and write them (PNG grid, or CSV for tables); what was written."""
    path = Path(output)
    check_output(path, run.preprocessor.input_kind)  # before any work
    samples, labels = draw_samples(run, n, seed)
    write_samples(path, samples, run.preprocessor, labels)
    return {
        "run": str(run.path),
        "output": str(path),
        "samples": n,
        "seed": seed,
        "shape": list(samples.shape[1:]),
        "conditional": labels is not None,
    }


def run_embeddings(run: Any, data: Any | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Codes (n, latent) of ``data`` (anything ``Run.outputs`` takes), or of the run's own
    test split when ``data`` is None, and the class indices of those rows when known."""
    _check_task(run, "embed", "embed", "autoencoder and vae")
    pre = run.preprocessor
    if data is None:
        from gradwise.data.load import load_test_split

        x, labels = load_test_split(run.config.data, pre.target_kind, run.config.seed, pre)
    else:
        raw = pre.read_inputs(data)
        x = pre.transform_features(raw)
        labels = None
        if pre.target_kind == "labels":
            values = pre.targets_of(raw)
            labels = None if values is None else pre.encode_target(values)
    return embed(run.model.cpu(), x), labels


def embed_to_file(
    run: Any, data: Any | None, output: str | Path, clusters: int | None, seed: int
) -> dict[str, Any]:
    """Write the codes as ``.npy`` (atomically) and cluster them (k-means; k given or by
    silhouette); ARI/NMI against the labels when the rows have them."""
    from gradwise._io import atomic_write

    path = Path(output)
    if path.suffix.lower() != ".npy":
        raise ConfigError(f"-o {path}: embeddings are written as .npy")
    codes, labels = run_embeddings(run, data)
    settings = run.task.settings
    found = cluster(codes, seed, clusters or settings.clusters, settings.max_clusters)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.save(handle, codes.astype(np.float32))

    atomic_write(path, write)
    return {
        "run": str(run.path),
        "output": str(path),
        "rows": len(codes),
        "latent": int(codes.shape[1]),
        "clustering": found.summary(labels),
        "assignments": found.labels.tolist(),
    }


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
