"""The tuning section (a study directory with ``tune.json``) and the comparison section (a
directory with ``compare.json``); both torch-free."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradwise.report.context import ReportContext
from gradwise.report.page import PNG_SIGNATURE, Raw, cards, escape, image, key_values, table
from gradwise.report.plots import comparison_higher_is_better
from gradwise.report.sections import section
from gradwise.report.size_curves import size_curves_png

LEADERBOARD_ROWS = 15


def embedded_png(path: Path, alt: str) -> str:
    """A PNG file of the directory as an inline image; a missing file gives nothing."""
    if not path.is_file():
        return ""
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        return f'<p class="note">{escape(path.name)} is not a PNG image; not shown.</p>'
    return image(data, alt)


def _bar(fraction: float) -> Raw:
    width = max(0.0, min(fraction, 1.0)) * 160
    return Raw(f'<span class="bar" style="width:{width:.0f}px"></span>{fraction:.3f}')


# ---------------------------------------------------------------------------------- tuning
def _leaderboard(study: dict[str, Any]) -> str:
    entries = study.get("leaderboard") or []
    if not entries:
        return ""
    params = list(dict.fromkeys(key for e in entries for key in (e.get("params") or {})))
    rows = [
        [
            e.get("trial"),
            e.get("value"),
            e.get("state"),
            e.get("epochs"),
            *((e.get("params") or {}).get(p) for p in params),
        ]
        for e in entries[:LEADERBOARD_ROWS]
    ]
    best_trial = (study.get("best") or {}).get("trial")
    row_classes = ["best" if row[0] == best_trial else "" for row in rows]
    more = len(entries) - LEADERBOARD_ROWS
    note = f'<p class="note">… and {more} more trials in tune.json.</p>' if more > 0 else ""
    return (
        "<h3>Leaderboard</h3>"
        + table(
            ["trial", study.get("metric", "value"), "state", "epochs", *params],
            rows,
            [True, True, False, True, *[False] * len(params)],
            row_classes,
        )
        + note
    )


@section("tuning", "Hyperparameter tuning", order=60)
def tuning(context: ReportContext) -> str | None:
    study = context.tune
    if study is None:
        return None
    best, counts = study.get("best") or {}, study.get("counts") or {}
    parts = [
        cards(
            [
                ("study", study.get("study")),
                ("metric", f"{study.get('metric')} ({study.get('direction')})"),
                ("best value", best.get("value")),
                ("best trial", best.get("trial")),
                (
                    "complete / pruned / failed",
                    " / ".join(str(counts.get(k, 0)) for k in ("complete", "pruned", "failed")),
                ),
            ]
        )
    ]
    if best.get("params"):
        parts.append('<div class="grid"><div><h3>Best parameters</h3>')
        parts.append(key_values(best["params"].items()))
        if best.get("run_dir"):
            parts.append(f'<p class="note">Best run: <code>{escape(best["run_dir"])}</code></p>')
        parts.append("</div>")
        importances = study.get("importances") or {}
        if importances and not (context.root / "importances.png").is_file():
            ranked = sorted(importances.items(), key=lambda kv: -kv[1])
            parts.append(
                "<div><h3>Parameter importance</h3>"
                + table(
                    ["parameter", "importance"], [[k, _bar(v)] for k, v in ranked], [False, False]
                )
                + "</div>"
            )
        parts.append("</div>")
    for name, alt in (
        ("history.png", "optimization history"),
        ("parallel.png", "parallel coordinates of the trials"),
        ("importances.png", "hyperparameter importances"),
    ):
        parts.append(embedded_png(context.root / name, alt))
    parts.append(_leaderboard(study))
    best_yaml = context.root / "best.yaml"
    if best_yaml.is_file():
        parts.append(
            "<details><summary>Best config (best.yaml)</summary>"
            f"<pre>{escape(best_yaml.read_text(encoding='utf-8'))}</pre></details>"
            f'<p class="note">Train it: <code>gradwise train {escape(best_yaml)}</code></p>'
        )
    return "".join(parts)


# ------------------------------------------------------------------------------ comparison
def _models_table(comparison: dict[str, Any]) -> str:
    models = comparison.get("models") or []
    metric = str(comparison.get("metric", "score"))
    means = [(m.get("test") or {}).get("mean") for m in models]
    finite = [v for v in means if isinstance(v, (int, float))]
    higher = comparison_higher_is_better(comparison)
    best = (max if higher else min)(finite) if finite else None
    rows, classes = [], []
    for model, mean in zip(models, means, strict=True):
        test = model.get("test") or {}
        spread = test.get("std")
        score = "–" if mean is None else f"{mean:.4g}" + (f" ± {spread:.2g}" if spread else "")
        rows.append(
            [
                model.get("name"),
                model.get("family"),
                Raw(escape(score)),
                model.get("train_score"),
                model.get("gap"),
                model.get("fit_time"),
                model.get("predict_ms_per_1000"),
                model.get("parameters"),
                model.get("size_bytes"),
            ]
        )
        classes.append("best" if mean is not None and mean == best else "")
    headers = [
        "model",
        "family",
        f"test {metric} (mean ± std)",
        f"train {metric}",
        "gap",
        "fit time (s)",
        "predict (ms / 1000 rows)",
        "parameters",
        "size (bytes)",
    ]
    return table(headers, rows, [False, False, *[True] * 7], classes)


@section("comparison", "Deep learning vs classical baselines", order=70)
def comparison(context: ReportContext) -> str | None:
    result = context.compare
    if result is None:
        return None
    parts = []
    if result.get("verdict"):
        parts.append(f'<p class="verdict">{escape(result["verdict"])}</p>')
    if result.get("dataset"):
        parts.append("<h3>Dataset</h3>" + key_values(result["dataset"].items()))
    parts.append("<h3>Models (best test score in bold)</h3>" + _models_table(result))
    picture = embedded_png(context.root / "learning_curves.png", "learning curves over data size")
    if not picture and result.get("learning_curves"):
        picture = image(
            size_curves_png(result),
            "learning curves over training-set size",
        )
    if picture:
        parts.append("<h3>Learning curves over training-set size</h3>" + picture)
    return "".join(parts)
