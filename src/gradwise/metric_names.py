"""Which way a metric improves, from its name; torch-free, so the report, the doctor and the CLI
can use it (each task's headline metric is its paradigm's ``main_metric``).

A name is read by the words in it: losses and errors (``loss``, ``nll``, ``kl``, ``mse``,
``rmse``, ``mae``, ``mape``, ``error``, ``perplexity``) get better as they fall; scores
(``accuracy``, ``f1``, ``auc``, ``r2``, ``recall``, ``precision``, ``reward``, ``return``) as
they rise. Error words are checked first (``valid_error_rate`` falls). A name with neither is
treated as a loss, the engine's default monitor (``valid_loss``).

>>> higher_is_better("valid_balanced_accuracy"), higher_is_better("valid_nll")
(True, False)
"""

from __future__ import annotations

LOWER_IS_BETTER_WORDS = ("loss", "nll", "kl", "mse", "mae", "mape", "error", "perplexity")
HIGHER_IS_BETTER_WORDS = (
    "accuracy", "f1", "auc", "r2", "recall", "precision", "reward", "return",
    "elbo", "silhouette",
)  # fmt: skip


def higher_is_better(metric_name: str) -> bool:
    """True for scores (larger is better), False for losses and errors and unknown names."""
    name = metric_name.lower()
    if any(word in name for word in LOWER_IS_BETTER_WORDS):
        return False
    return any(word in name for word in HIGHER_IS_BETTER_WORDS)
