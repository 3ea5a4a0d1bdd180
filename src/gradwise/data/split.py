"""Train/valid/test split indices, fixed by the seed; stratified for classification.

Stratified sizes come from *controlled rounding*: the expected count of class c in split j is
``E[c, j] = count[c] * size[j] / n``; every cell is rounded down or up so that class totals and
split sizes stay exact. Such a rounding always exists (the fractional table is a feasible flow,
so an integral one is too); it is found with augmenting paths. So every split's class counts are
within one sample of the class's share of that split.
"""

from __future__ import annotations

import warnings
from collections import deque

import numpy as np

from gradwise._io import user_stacklevel

RARE_CLASS = 3  # members a class needs to be spread over train/valid/test


def split_sizes(n: int, valid: float, test: float, n_fixed_test: int = 0) -> tuple[int, int]:
    """(n_valid, n_test) as fractions of the whole data; a fixed test split keeps its size."""
    total = n + n_fixed_test
    n_valid = round(valid * total)
    n_test = 0 if n_fixed_test else round(test * total)
    return n_valid, n_test


def stratified_split(
    labels: np.ndarray, n_valid: int, n_test: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted (train, valid, test) row indices with each class spread in proportion."""
    n = len(labels)
    rng = np.random.default_rng(seed)
    classes, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    rare = counts < RARE_CLASS
    n_rare_rows = int(counts[rare].sum())
    if rare.any() and n_rare_rows > (n - n_valid - n_test) // 2:
        warnings.warn(
            f"{int(rare.sum())} of {len(classes)} classes have fewer than {RARE_CLASS} members: "
            "too many to stratify, using a plain random split",
            stacklevel=user_stacklevel(),
        )
        return plain_split(n, n_valid, n_test, seed)
    if rare.any():
        names = ", ".join(map(repr, classes[rare][:5].tolist()))
        warnings.warn(
            f"class(es) {names} have fewer than {RARE_CLASS} members: kept in the training "
            "split only; the other classes are stratified",
            stacklevel=user_stacklevel(),
        )
    common = np.flatnonzero(~rare)
    sizes = np.array([n - n_rare_rows - n_valid - n_test, n_valid, n_test])  # train, valid, test
    expected = counts[common, None] * sizes[None, :] / max(int(counts[common].sum()), 1)
    table = controlled_rounding(expected, counts[common], sizes)  # (classes, 3)
    parts: list[list[np.ndarray]] = [[], [], []]
    for row, c in enumerate(common):
        members = rng.permutation(np.flatnonzero(codes == c))
        n_train, n_val, _ = table[row]
        parts[0].append(members[:n_train])
        parts[1].append(members[n_train : n_train + n_val])
        parts[2].append(members[n_train + n_val :])
    parts[0] += [np.flatnonzero(codes == c) for c in np.flatnonzero(rare)]
    train, valid, test = (np.sort(np.concatenate(p)).astype(np.int64) for p in parts)
    return train, valid, test


def plain_split(n: int, n_valid: int, n_test: int, seed: int) -> tuple[np.ndarray, ...]:
    """Sorted (train, valid, test) indices of a random permutation of n rows."""
    order = np.random.default_rng(seed).permutation(n)
    test, valid = order[:n_test], order[n_test : n_test + n_valid]
    train = order[n_test + n_valid :]
    return np.sort(train), np.sort(valid), np.sort(test)


def controlled_rounding(
    expected: np.ndarray, row_totals: np.ndarray, col_totals: np.ndarray
) -> np.ndarray:
    """Round ``expected`` cell by cell (floor or ceil) keeping integral row and column totals."""
    counts = np.floor(expected + 1e-9).astype(np.int64)
    residual = expected - counts
    allowed = residual > 1e-9  # cells that may still round up
    extra = np.zeros(counts.shape, dtype=bool)
    col_free = np.asarray(col_totals) - counts.sum(axis=0)
    for row, need in enumerate(np.asarray(row_totals) - counts.sum(axis=1)):
        for _ in range(int(need)):
            found = _augment(row, allowed, extra, col_free, residual)
            assert found, "controlled rounding always exists for integral totals"
    return counts + extra


def _augment(
    start: int, allowed: np.ndarray, extra: np.ndarray, col_free: np.ndarray, residual: np.ndarray
) -> bool:
    """Give row ``start`` one more unit, moving other rows' units along a path if a column is full.

    Breadth-first over rows: row r may take column j (allowed, not yet taken by r); when j is
    full, a row holding j may give it up and take another column instead.
    """
    came_from: dict[int, tuple[int, int]] = {start: (-1, -1)}  # row -> (previous row, column)
    queue = deque([start])
    while queue:
        row = queue.popleft()
        for col in np.argsort(-residual[row], kind="stable"):
            if not allowed[row, col] or extra[row, col]:
                continue
            if col_free[col] > 0:  # free room: take it and shift the path back to start
                col_free[col] -= 1
                extra[row, col] = True
                while row != start:
                    previous, given = came_from[row]
                    extra[row, given] = False
                    extra[previous, given] = True
                    row = previous
                return True
            for holder in np.flatnonzero(extra[:, col]):
                if holder not in came_from:
                    came_from[int(holder)] = (row, int(col))
                    queue.append(int(holder))
    return False
