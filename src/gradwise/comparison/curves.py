"""Learning-curve subsets: nested, stratified shares of the training split, fixed by the seed.

One order of the training rows is drawn per seed; the subset for fraction f is its first
``m = round(f · n)`` rows. So subsets are nested (the 10% rows are inside the 25% rows) and every
model sees the same rows at a given fraction and seed.

For classification the order is stratified in every prefix. Class c (n_c rows, share
p_c = n_c / n) holds m_c of the first m rows; its deficit is d_c(m) = m · p_c − m_c. Row m + 1
comes from the class with the largest deficit after the step::

    c* = argmax_c [(m + 1) · p_c − m_c]          (ties: a seeded random class priority)

and within a class rows come in a seeded random order. This is the greedy answer to the
"chairman assignment" problem (Tijdeman, 1980, Discrete Mathematics 32). A class never holds a
whole row more than its share, d_c > −1: the deficits sum to zero, so before the step the
chosen class had d_c + p_c ≥ 1/K > 0. It never falls a whole row short either, d_c < 1, which a
test checks on every prefix of random class sizes.
"""

from __future__ import annotations

import numpy as np

from gradwise.errors import ConfigError

MIN_SUBSET_ROWS = 10  # the smallest training subset a fraction may give


def nested_order(y_train: np.ndarray, classification: bool, seed: int) -> np.ndarray:
    """A seeded order of the training rows whose every prefix is a (stratified) subset."""
    rng = np.random.default_rng([seed, 0x5CA1E])  # independent of the split's own stream
    n = len(y_train)
    if not classification:
        return rng.permutation(n)
    classes, codes = np.unique(y_train, return_inverse=True)
    members = [rng.permutation(np.flatnonzero(codes == k)) for k in range(len(classes))]
    sizes = np.array([len(m) for m in members], dtype=np.float64)
    share = sizes / n  # p_c
    priority = rng.permutation(len(classes)) * 1e-9  # breaks exact ties only
    taken = np.zeros(len(classes), dtype=np.int64)  # m_c
    order = np.empty(n, dtype=np.int64)
    for m in range(n):
        deficit = (m + 1) * share - taken + priority  # (K,)
        deficit[taken >= sizes] = -np.inf
        chosen = int(np.argmax(deficit))
        order[m] = members[chosen][taken[chosen]]
        taken[chosen] += 1
    return order


def subset_size(fraction: float, n_train: int) -> int:
    return max(1, min(n_train, round(fraction * n_train)))


def subset_rows(order: np.ndarray, fraction: float) -> np.ndarray:
    """Sorted training-row indices of the subset for ``fraction``."""
    return np.sort(order[: subset_size(fraction, len(order))])


def check_fractions(
    fractions: list[float], y_train: np.ndarray, order: np.ndarray | None = None
) -> None:
    """Every fraction must leave enough training rows to fit a model and, given a
    classification ``order`` (:func:`nested_order`), at least two classes in its subset.

    The classes are counted in the subset itself: a class of share p_c is sure to appear only
    once m · p_c ≥ 1, so a 3% class is absent from the first 16 rows of a two-class order.
    """
    n_train = len(y_train)
    for fraction in fractions:
        size = subset_size(fraction, n_train)
        if size < MIN_SUBSET_ROWS:
            raise ConfigError(
                f"compare.fractions: {fraction:g} of the {n_train} training rows is {size} "
                f"row(s); each share must hold at least {MIN_SUBSET_ROWS} rows"
            )
        if order is None:
            continue
        classes = len(np.unique(y_train))
        if classes >= 2 and len(np.unique(y_train[subset_rows(order, fraction)])) < 2:
            raise ConfigError(
                f"compare.fractions: {fraction:g} of the {n_train} training rows is {size} "
                f"rows, all of one class (the training split has {classes}); a classifier "
                "needs at least 2 classes to fit: use a larger fraction"
            )
