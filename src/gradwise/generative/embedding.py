"""Embeddings of a trained autoencoder or VAE, and their clustering next to the PCA baseline."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gradwise.generative.clustering import cluster, pca_points

EMBED_BATCH = 8192


@torch.inference_mode()
def embed(module: Any, x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Codes (n, latent) of inputs ``x``: the encoder's output (autoencoder) or the posterior
    mean μ(x) (VAE), in eval mode, in batches."""
    was_training = module.training
    module.eval()
    device = next(module.parameters()).device
    x = torch.as_tensor(x, dtype=torch.float32, device=device)
    codes = [module.embed(chunk).float() for chunk in x.split(EMBED_BATCH)]
    module.train(was_training)
    return torch.cat(codes).cpu().numpy()


def compare_clusterings(
    codes: np.ndarray,
    x_train: np.ndarray,
    x: np.ndarray,
    labels: np.ndarray | None,
    settings: Any,
    seed: int,
) -> dict[str, Any]:
    """k-means on the codes of ``x`` and on ``x`` projected on as many principal components of
    the training split as the codes have dimensions; flat keys for a summary: ``clusters``,
    ``silhouette`` (and ``ari``, ``nmi`` with labels), the same with a ``pca_`` prefix."""
    deep = cluster(codes, seed, settings.clusters, settings.max_clusters)
    pca = cluster(
        pca_points(x_train, x, codes.shape[1]), seed, settings.clusters, settings.max_clusters
    )
    result: dict[str, Any] = {}
    for prefix, found in (("", deep), ("pca_", pca)):
        summary = found.summary(labels)
        result[f"{prefix}clusters"] = summary["k"]
        result[f"{prefix}silhouette"] = summary["silhouette"]
        for key in ("ari", "nmi"):
            if key in summary:
                result[f"{prefix}{key}"] = summary[key]
    return result
