"""Report sections of the generative paradigms (autoencoder, vae, gan).

- "Generative training" (order 32): the ELBO, reconstruction and KL per epoch (vae) with the KL
  of every latent unit per epoch (``latent_kl.jsonl``); the two players' losses, D's accuracy
  and the validation FD per epoch (gan).
- "Samples and their quality" (order 41): a grid of 64 samples (seed 0; a table of rows for table
  data), the three Fréchet distances of the test summary and a verdict on the deep generator
  against the Gaussian mixture, in the spirit of ``gradwise compare``.
- "Embeddings" (order 43): the test split's codes in 2-D (first two principal components),
  coloured by k-means cluster, and k-means on the codes against PCA + k-means on the raw inputs.

Sections read the run's files; samples and codes load the model (torch) through the run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradwise._io import read_jsonl
from gradwise._plotting import colour, render_png
from gradwise.report.context import ReportContext
from gradwise.report.page import cards, escape, format_value, image, table
from gradwise.report.sections import section
from gradwise.tasks.generative import LATENT_KL_FILE, is_generative

GRID_SAMPLES = 64
TABLE_ROWS, TABLE_COLUMNS = 10, 12  # sample rows of a table shown on the page
WIDTH = 11.0


def _generative(context: ReportContext) -> bool:
    return context.is_run and context.task is not None and is_generative(context.task)


def _series(metrics: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [(r["epoch"], r[key]) for r in metrics if isinstance(r.get(key), (int, float))]
    if not rows:
        return np.zeros(0), np.zeros(0)
    epochs, values = zip(*rows, strict=True)
    return np.asarray(epochs), np.asarray(values, dtype=float)


def _panel(axes: Any, metrics: list[dict[str, Any]], keys: list[str], title: str) -> None:
    for i, key in enumerate(keys):
        epochs, values = _series(metrics, key)
        if len(epochs):
            axes.plot(epochs, values, color=colour(i), linewidth=1.6, label=key)
    axes.set_title(title)
    axes.set_xlabel("epoch")
    axes.legend()


def vae_curves_png(metrics: list[dict[str, Any]], unit_kl: list[dict[str, Any]]) -> bytes:
    """ELBO, reconstruction/KL (nats per sample) and the KL of each latent unit per epoch."""

    def draw(figure: Any) -> None:
        axes = figure.subplots(1, 3)
        _panel(axes[0], metrics, ["valid_elbo"], "ELBO (nats, validation)")
        _panel(
            axes[1],
            metrics,
            ["train_reconstruction", "valid_reconstruction", "train_kl", "valid_kl"],
            "Reconstruction −log p(x|z) and KL (nats)",
        )
        if unit_kl:
            grid = np.asarray([row["kl_per_unit"] for row in unit_kl], dtype=float).T
            shown = axes[2].imshow(
                grid,
                aspect="auto",
                cmap="viridis",
                extent=(0.5, len(unit_kl) + 0.5, grid.shape[0] - 0.5, -0.5),
            )
            figure.colorbar(shown, ax=axes[2], label="KL (nats)")
            axes[2].set_title("KL per latent unit (validation)")
            axes[2].set_xlabel("epoch")
            axes[2].set_ylabel("latent unit")
        else:
            axes[2].set_axis_off()

    return render_png(draw, WIDTH, 3.4)


def gan_curves_png(metrics: list[dict[str, Any]]) -> bytes:
    """The players' losses, D's accuracy and the validation FD per epoch."""

    def draw(figure: Any) -> None:
        axes = figure.subplots(1, 3)
        _panel(axes[0], metrics, ["train_discriminator_loss", "train_generator_loss"], "Losses")
        _panel(
            axes[1],
            metrics,
            ["train_discriminator_accuracy", "valid_discriminator_accuracy"],
            "Discriminator accuracy",
        )
        axes[1].set_ylim(0.0, 1.05)
        _panel(axes[2], metrics, ["valid_fd"], "Fréchet distance (validation)")
        _, values = _series(metrics, "valid_fd")
        if len(values) and np.nanmax(values) / max(np.nanmin(values), 1e-9) > 20:
            axes[2].set_yscale("log")

    return render_png(draw, WIDTH, 3.4)


@section("generative_training", "Generative training", order=32)
def generative_training(context: ReportContext) -> str | None:
    if not _generative(context) or not context.metrics:
        return None
    metrics = context.metrics
    if any("valid_elbo" in row for row in metrics):
        unit_kl = read_jsonl(context.root / LATENT_KL_FILE)
        last = metrics[-1]
        text = (
            f"<p>Final epoch: validation ELBO {format_value(last.get('valid_elbo'))} nats per "
            f"sample = −(reconstruction {format_value(last.get('valid_reconstruction'))} + KL "
            f"{format_value(last.get('valid_kl'))}); {format_value(last.get('valid_active_units'))}"
            " latent units carry more than 0.01 nats.</p>"
        )
        return text + image(vae_curves_png(metrics, unit_kl), "ELBO, KL and KL per latent unit")
    if any("valid_fd" in row for row in metrics):
        return image(gan_curves_png(metrics), "GAN losses, discriminator accuracy and FD")
    return None


# ------------------------------------------------------------------------------- samples
DRAW_KEYS = ("fd_draws", "fd_sd", "fd_baseline_sd")  # how the summary's FDs were averaged


def fd_verdict(test: dict[str, Any]) -> str:
    """Whether the deep generator beats the Gaussian mixture, from the FD trio: level with it
    where the two means differ by less than two standard errors of their difference."""
    fd, baseline, floor = (test.get(k) for k in ("fd", "fd_baseline", "fd_floor"))
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (fd, baseline, floor)):
        return "No sample-quality figures were recorded (the run has no test split)."
    gap = f"(FD {fd:.3g} against the mixture's {baseline:.3g}; real held-out data: {floor:.3g})"
    draws = test.get("fd_draws") or 1
    error = math.hypot(test.get("fd_sd") or 0.0, test.get("fd_baseline_sd") or 0.0) / draws**0.5
    if abs(baseline - fd) < 2 * error:
        return (
            f"Level with the Gaussian mixture {gap}: over {draws} sample draws and mixture fits "
            f"the difference is within two standard errors ({2 * error:.2g}); neither model "
            "is ahead here."
        )
    if fd < baseline:
        share = (baseline - fd) / max(baseline - floor, 1e-12)
        return (
            f"Better than the Gaussian mixture: the samples are closer to held-out data {gap}, "
            f"closing {min(share, 1.0):.0%} of the mixture's distance to the real-data floor."
        )
    return (
        f"Not better than the Gaussian mixture: a 10-component Gaussian mixture fitted to the "
        f"training split samples closer to held-out data {gap}; the deep generator does not earn "
        "its cost here."
    )


@section("samples", "Samples and their quality", order=41)
def samples(context: ReportContext) -> str | None:
    if not _generative(context):
        return None
    test = context.summary.get("test") or {}
    run = context.run
    if not hasattr(run.model, "sample"):
        return None
    from gradwise.generative.grids import grid_png, original_units, table_rows
    from gradwise.generative.sampling import draw_samples

    drawn, labels = draw_samples(run, GRID_SAMPLES, seed=0)
    pre = run.preprocessor
    if pre.input_kind == "tabular":
        frame = table_rows(drawn[:TABLE_ROWS], pre)
        columns = list(frame.columns[:TABLE_COLUMNS])
        shown = table(columns, frame[columns].to_numpy().tolist(), [True] * len(columns))
        if frame.shape[1] > TABLE_COLUMNS:
            shown += (
                f'<p class="note">The first {TABLE_COLUMNS} of {frame.shape[1]} columns; '
                "<code>gradwise sample RUN -o rows.csv</code> writes them all.</p>"
            )
    else:
        png = grid_png(original_units(drawn, pre), pre.input_kind, labels)
        shown = image(png, f"{GRID_SAMPLES} samples")
    tabular = pre.input_kind == "tabular"
    shown_count, suffix = (TABLE_ROWS, "csv") if tabular else (GRID_SAMPLES, "png")
    figures = [
        (name, test.get(key))
        for name, key in (
            ("FD of the samples", "fd"),
            ("FD of a Gaussian mixture", "fd_baseline"),
            ("FD of real training data", "fd_floor"),
        )
        if key in test
    ]
    space = test.get("feature_space")
    where = (
        "the 64-unit penultimate layer of a classifier trained on the training split"
        + (
            f" (validation accuracy {test['feature_classifier_accuracy']:.1%})"
            if isinstance(test.get("feature_classifier_accuracy"), (int, float))
            else ""
        )
        if space == "classifier"
        else "the first principal components of the training split"
    )
    return (
        f"<p>{shown_count} samples (seed 0; <code>gradwise sample RUN -n {GRID_SAMPLES} -o "
        f"samples.{suffix}</code> draws them again).</p>"
        + shown
        + (cards(figures) if figures else "")
        + f"<p><strong>{escape(fd_verdict(test))}</strong> Fréchet distances to the held-out test "
        f"split, measured in {escape(where)}, each from as many rows as the training split"
        + (
            f"; the samples' and the mixture's are means over {test['fd_draws']} draws and fits "
            f"(standard deviations {test['fd_sd']:.2g} and {test['fd_baseline_sd']:.2g})"
            if all(isinstance(test.get(k), (int, float)) for k in DRAW_KEYS)
            else ""
        )
        + ".</p>"
    )


# ---------------------------------------------------------------------------- embeddings
def projection_png(points: np.ndarray, clusters: np.ndarray, labels: np.ndarray | None) -> bytes:
    """2-D projection coloured by k-means cluster (and by label, when known)."""
    panels = 2 if labels is not None else 1

    def draw(figure: Any) -> None:
        axes = np.atleast_1d(figure.subplots(1, panels))
        for ax, values, title in zip(
            axes, (clusters, labels), ("k-means clusters", "labels"), strict=False
        ):
            for value in np.unique(values):
                chosen = values == value
                ax.scatter(*points[chosen].T, s=6, color=colour(int(value)), label=str(value))
            ax.set_title(f"Codes, first two principal components: {title}")
            ax.set_xticks([])
            ax.set_yticks([])

    return render_png(draw, WIDTH if panels == 2 else WIDTH / 2, 4.2)


@section("embeddings", "Embeddings", order=43)
def embeddings(context: ReportContext) -> str | None:
    if not _generative(context):
        return None
    run = context.run
    if not hasattr(run.model, "embed"):
        return None
    from gradwise.generative.clustering import cluster, project_2d
    from gradwise.generative.embedding import compare_clusterings
    from gradwise.generative.sampling import run_embeddings

    codes, labels = run_embeddings(run, None)
    settings = run.task.settings
    found = cluster(codes, run.config.seed, settings.clusters, settings.max_clusters)
    test = context.summary.get("test") or {}
    if "pca_silhouette" not in test:  # a VAE's summary does not hold them: measure here
        from gradwise.tasks import load_data

        splits = load_data(run.config)
        test = compare_clusterings(
            codes, splits.x_train, splits.x_test, labels, settings, run.config.seed
        )
    rows = [
        ["deep codes + k-means", test.get("clusters"), test.get("silhouette"), test.get("ari"),
         test.get("nmi")],
        ["PCA + k-means", test.get("pca_clusters"), test.get("pca_silhouette"),
         test.get("pca_ari"), test.get("pca_nmi")],
    ]  # fmt: skip
    verdict = embedding_verdict(test)
    return (
        image(projection_png(project_2d(codes), found.labels, labels), "2-D projection of codes")
        + table(["method", "k", "silhouette", "ARI", "NMI"], rows, [False, *[True] * 4])
        + f"<p><strong>{escape(verdict)}</strong></p>"
    )


def embedding_verdict(test: dict[str, Any]) -> str:
    """Whether k-means on the deep codes agrees with the labels better than on PCA."""
    deep, pca = test.get("ari"), test.get("pca_ari")
    if isinstance(deep, (int, float)) and isinstance(pca, (int, float)):
        if deep > pca + 0.02:
            return (
                f"The deep embeddings earn their cost: their clusters match the labels better "
                f"(ARI {deep:.3f}) than PCA + k-means on the raw inputs ({pca:.3f})."
            )
        return (
            f"The deep embeddings do not earn their cost here: their clusters match the labels "
            f"no better (ARI {deep:.3f}) than PCA + k-means on the raw inputs ({pca:.3f})."
        )
    deep, pca = test.get("silhouette"), test.get("pca_silhouette")
    if isinstance(deep, (int, float)) and isinstance(pca, (int, float)):
        better = "better" if deep > pca else "no better"
        return (
            f"Without labels: the clusters of the deep codes are {better} separated (silhouette "
            f"{deep:.3f}) than those of PCA + k-means ({pca:.3f})."
        )
    return "No clustering figures were recorded."
