"""Sample quality, measured: the Fréchet distance in a feature space learned from the data.

The Fréchet distance between two sets of features, each summarised by its mean and covariance
(the 2-Wasserstein distance between the two Gaussians; Heusel et al., 2017, who use Inception
features and call it FID)::

    FD = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)

computed here with symmetric eigendecompositions: Tr (Σ₁^½ Σ₂ Σ₁^½)^½ = Σ_k √λ_k, λ the
eigenvalues of the symmetric matrix Σ₁^½ Σ₂ Σ₁^½ (clipped at 0).

No downloaded network: the features are the 64-unit penultimate layer of a classifier trained on
the same dataset's training split (its labels), or, for data without labels, the projection on
the first 64 principal components of the training split. Three distances are measured against
the held-out test split, each with as many rows as the training split (the estimate is biased by
the sample size, so all three use the same):

- ``fd``: the model's samples,
- ``fd_baseline``: samples of a Gaussian mixture (10 components, full covariances) fitted to the
  training split — the classical generative model the deep one has to beat,
- ``fd_floor``: the training split itself (real data; what a perfect generator would get).

One sample set's FD varies from draw to draw, and one mixture's from fit to fit (EM lands in
different optima: on digits one fit measured 2.9–5.8 against the same test rows), so ``fd`` and
``fd_baseline`` are means over ``FD_DRAWS`` sample sets and as many mixture fits, with their
standard deviations ``fd_sd`` and ``fd_baseline_sd``: a verdict on a single draw would often
be the draw's, not the model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

FEATURES = 64  # width of the feature space
CLASSIFIER_EPOCHS = 60
CLASSIFIER_BATCH = 128
BASELINE_COMPONENTS = 10
BASELINE_REG = 1e-3  # added to each covariance's diagonal (inputs are standardized or [0, 1])
FD_DRAWS = 5  # sample sets of the model, and fits of the mixture, that fd and fd_baseline average


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FD between the rows of ``a`` (n, F) and of ``b`` (m, F) (module text)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")  # non-finite samples have no distance (eigh would not converge)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T  # Σ_a^½
    middle = root_a @ cov_b @ root_a
    middle = 0.5 * (middle + middle.T)
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0.0, None)).sum()
    distance = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(distance, 0.0))


class FeatureClassifier(nn.Module):
    """Flatten → 256 → ReLU → 64 (the features) → ReLU → classes."""

    def __init__(self, n_inputs: int, n_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Flatten(), nn.Linear(n_inputs, 256), nn.ReLU(), nn.Linear(256, FEATURES)
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(FEATURES, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass
class FeatureSpace:
    """Maps inputs (n, *shape) to features (n, F): a trained classifier's penultimate layer, or
    a PCA projection (``classifier`` None)."""

    classifier: FeatureClassifier | None
    pca_mean: np.ndarray | None = None
    pca_components: np.ndarray | None = None
    n_classes: int = 0
    accuracy: float | None = None  # the classifier's accuracy on the validation split

    @property
    def kind(self) -> str:
        return "classifier" if self.classifier is not None else "pca"

    @torch.no_grad()
    def features(self, x: Any) -> np.ndarray:
        if self.classifier is None:
            flat = _numpy(x).reshape(len(x), -1)
            return (flat - self.pca_mean) @ self.pca_components.T
        tensor = _tensor(x, self.classifier)
        return self.classifier.body(tensor).double().cpu().numpy()

    @torch.no_grad()
    def classes(self, x: Any) -> np.ndarray | None:
        """Predicted classes (n,), or None without a classifier."""
        if self.classifier is None:
            return None
        return self.classifier(_tensor(x, self.classifier)).argmax(1).cpu().numpy()


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _tensor(x: Any, module: nn.Module) -> torch.Tensor:
    device = next(module.parameters()).device
    return torch.as_tensor(_numpy(x), dtype=torch.float32, device=device)


def fit_feature_space(
    x_train: np.ndarray,
    y_train: np.ndarray | None,
    seed: int,
    device: torch.device | str = "cpu",
    x_valid: np.ndarray | None = None,
    y_valid: np.ndarray | None = None,
) -> FeatureSpace:
    """A classifier trained on the training split (Adam, 60 epochs, its own seeded random
    streams: the caller's are left as they were), or a PCA without labels."""
    x_train = np.asarray(x_train, dtype=np.float32)
    flat = x_train.reshape(len(x_train), -1)
    if y_train is None or len(np.unique(y_train)) < 2:
        mean = flat.mean(axis=0)
        _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
        return FeatureSpace(None, mean, vt[: min(FEATURES, vt.shape[0])])
    n_classes = int(np.max(y_train)) + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FeatureClassifier(flat.shape[1], n_classes).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        x = torch.as_tensor(flat, device=device)
        y = torch.as_tensor(np.asarray(y_train, dtype=np.int64), device=device)
        order = torch.Generator().manual_seed(seed)
        for _ in range(CLASSIFIER_EPOCHS):
            for index in torch.randperm(len(x), generator=order).split(CLASSIFIER_BATCH):
                index = index.to(device)
                loss = nn.functional.cross_entropy(model(x[index]), y[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    model.eval().requires_grad_(False)
    space = FeatureSpace(model, n_classes=n_classes)
    if x_valid is not None and y_valid is not None and len(x_valid):
        predicted = space.classes(x_valid)
        space.accuracy = float((predicted == np.asarray(y_valid)).mean())
    return space


def mixture_baseline(x_train: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` samples (n, *shape) of a full-covariance Gaussian mixture fitted to the training
    split (sklearn ``GaussianMixture``, 10 components, or fewer for tiny data)."""
    from sklearn.mixture import GaussianMixture

    flat = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    components = max(1, min(BASELINE_COMPONENTS, len(flat) // 10))
    mixture = GaussianMixture(
        components, covariance_type="full", reg_covar=BASELINE_REG, random_state=seed
    ).fit(flat)
    samples, _ = mixture.sample(n)
    rng = np.random.default_rng(seed)  # GaussianMixture.sample returns rows grouped by component
    return samples[rng.permutation(n)].reshape(n, *x_train.shape[1:]).astype(np.float32)


def feature_variance_ratio(features: np.ndarray, reference: np.ndarray) -> float:
    """tr Σ_features / tr Σ_reference of two feature sets (n, d)."""
    return float(np.trace(np.atleast_2d(np.cov(features, rowvar=False)))) / max(
        float(np.trace(np.atleast_2d(np.cov(reference, rowvar=False)))), 1e-12
    )


def class_spread(space: FeatureSpace, samples: Any, reference: Any) -> dict[str, float]:
    """How much of the data's variety the samples show: the feature variance ratio
    tr Σ_samples / tr Σ_data and, with a classifier, the entropy of the samples' predicted
    classes over that of the data's (1: as varied as the data; → 0: one mode)."""
    ratio = feature_variance_ratio(space.features(samples), space.features(reference))
    spread = {"feature_variance_ratio": ratio}
    sample_classes, data_classes = space.classes(samples), space.classes(reference)
    if sample_classes is not None and data_classes is not None:
        k = space.n_classes
        spread["class_entropy_ratio"] = _entropy(sample_classes, k) / max(
            _entropy(data_classes, k), 1e-12
        )
    return spread


def _entropy(labels: np.ndarray, k: int) -> float:
    p = np.bincount(labels, minlength=k) / max(len(labels), 1)
    p = p[p > 0]
    return float(max(-(p * np.log(p)).sum(), 0.0))


def _sample_sd(values: list[float]) -> float:
    """The sample standard deviation (n − 1 in the denominator); 0 for a single value."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def distance_trio(
    space: FeatureSpace,
    sample_sets: list[Any],
    x_train: np.ndarray,
    x_test: np.ndarray,
    seed: int,
) -> dict[str, float]:
    """``fd`` and ``fd_baseline``, means over the model's ``sample_sets`` and as many mixture
    fits (seeds ``seed``, ``seed + 1``, …), their standard deviations, ``fd_floor`` (module
    text) and ``fd_ratio`` = fd / fd_baseline (below 1: the deep model beats the mixture)."""
    test = space.features(x_test)
    fds = [frechet_distance(space.features(samples), test) for samples in sample_sets]
    baselines = [
        frechet_distance(space.features(mixture_baseline(x_train, len(samples), seed + k)), test)
        for k, samples in enumerate(sample_sets)
    ]
    fd, fd_baseline = float(np.mean(fds)), float(np.mean(baselines))
    return {
        "fd": fd,
        "fd_sd": _sample_sd(fds),
        "fd_baseline": fd_baseline,
        "fd_baseline_sd": _sample_sd(baselines),
        "fd_floor": frechet_distance(space.features(x_train), test),
        "fd_ratio": fd / fd_baseline if fd_baseline > 0 else float("nan"),
        "fd_draws": len(sample_sets),
    }
