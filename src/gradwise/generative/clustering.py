"""Clustering of embeddings: k-means, k chosen by silhouette, scored against labels when known,
and the classical baseline every deep embedding has to beat: PCA + k-means on the raw inputs.

Silhouette of sample i (Rousseeuw, 1987), a(i) the mean distance to its own cluster and b(i) the
smallest mean distance to another cluster::

    s(i) = (b(i) − a(i)) / max(a(i), b(i))      ∈ [−1, 1];  the score is the mean over i

k is the one in 2..max_clusters with the highest score. Against known labels: the adjusted Rand
index (ARI; 0 for chance, 1 for the same partition; Hubert & Arabie, 1985) and the normalized
mutual information (NMI, arithmetic normalization). Torch-free (scikit-learn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SILHOUETTE_ROWS = 2000  # silhouette on at most this many rows (it is O(n²))


@dataclass
class Clustering:
    labels: np.ndarray  # (n,) cluster of each row
    k: int
    silhouette: float
    chosen_by: str  # "given" | "silhouette"
    scores: dict[int, float]  # silhouette per k tried

    def summary(self, truth: np.ndarray | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {
            "k": self.k,
            "silhouette": self.silhouette,
            "chosen_by": self.chosen_by,
            "cluster_sizes": np.bincount(self.labels, minlength=self.k).tolist(),
        }
        if truth is not None:
            result.update(agreement(truth, self.labels))
        return result


def agreement(truth: np.ndarray, clusters: np.ndarray) -> dict[str, float]:
    """ARI and NMI of ``clusters`` against the labels ``truth``."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "ari": float(adjusted_rand_score(truth, clusters)),
        "nmi": float(normalized_mutual_info_score(truth, clusters)),
    }


def kmeans(points: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=10, random_state=seed).fit_predict(points)


def silhouette(points: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return -1.0
    size = min(len(points), SILHOUETTE_ROWS)
    return float(silhouette_score(points, labels, sample_size=size, random_state=seed))


def cluster(
    points: np.ndarray, seed: int, k: int | None = None, max_clusters: int = 12
) -> Clustering:
    """k-means on ``points`` (n, d); k given, or the best silhouette over 2..max_clusters."""
    points = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    if k is not None:
        k = min(k, len(points))
        labels = kmeans(points, k, seed)
        score = silhouette(points, labels, seed)
        return Clustering(labels, k, score, "given", {k: score})
    scores, fits = {}, {}
    for candidate in range(2, max(2, min(max_clusters, len(points) - 1)) + 1):
        fits[candidate] = kmeans(points, candidate, seed)
        scores[candidate] = silhouette(points, fits[candidate], seed)
    best = max(scores, key=lambda c: scores[c])
    return Clustering(fits[best], best, scores[best], "silhouette", scores)


def pca_points(x_train: np.ndarray, x: np.ndarray, components: int) -> np.ndarray:
    """``x`` projected on the first ``components`` principal axes of ``x_train``."""
    from sklearn.decomposition import PCA

    train = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    n = max(1, min(components, train.shape[1], len(train)))
    pca = PCA(n, random_state=0).fit(train)
    return pca.transform(np.asarray(x, dtype=np.float64).reshape(len(x), -1))


def project_2d(points: np.ndarray) -> np.ndarray:
    """A 2-D view of ``points`` (n, d): their first two principal components."""
    points = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    centred = points - points.mean(axis=0)
    if points.shape[1] == 1:
        return np.concatenate([centred, np.zeros_like(centred)], axis=1)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T
