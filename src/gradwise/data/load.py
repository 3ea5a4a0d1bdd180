"""From ``data:`` to arrays: read the source, split by seed, fit preprocessing on train only.

``load_splits`` is what the engine calls; it returns float32 features and encoded targets for
the three splits, the fitted :class:`Preprocessor` and a JSON-able dataset profile. The caller
gives the ``target_kind``: ``"labels"`` (class labels: a stratified split, int64 class
indices), ``"values"`` (numbers, standardized unless ``options.scale_target`` is false),
``"multi"`` (several table columns, each labels or values as ``data.target`` maps them or as
inferred from the column; float32 (n, T); the split is stratified by the first labels column)
or None (no targets: features only, ``y_*`` are None).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from gradwise._io import to_jsonable, user_stacklevel
from gradwise.config.schema import DataConfig
from gradwise.data import leakage
from gradwise.data.preprocess import Preprocessor
from gradwise.data.raw import GENERIC_OPTIONS, RawData
from gradwise.data.roles import left_out_columns
from gradwise.data.sources import read_source
from gradwise.data.split import plain_split, split_sizes, stratified_split
from gradwise.data.tabular import is_date_column
from gradwise.data.targets import (
    MULTI,
    MultiTargetEncoder,
    fit_target_encoder,
    label_list,
    target_kinds,
)
from gradwise.errors import DataError, did_you_mean


@dataclass
class Splits:
    """Model-ready arrays: x float32 (n, *feature_shape); y int64 (n,) for labels, float32 (n,)
    / (n, k) for values, None without targets."""

    x_train: np.ndarray
    y_train: np.ndarray | None
    x_valid: np.ndarray
    y_valid: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    preprocessor: Preprocessor  # fitted on the training split only
    profile: dict[str, Any]  # JSON-able description of the dataset and the splits
    # rows of the source in each split ("test" indexes the source's fixed test split if any)
    indices: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Examples:
    """Inputs and targets of a source, before splitting."""

    features: pd.DataFrame | np.ndarray
    targets: np.ndarray | None  # (n,) or (n, k), labels or numbers as read; None: not wanted
    target_names: list[str] | None
    test_features: np.ndarray | None = None  # a fixed test split (arrays only)
    test_targets: np.ndarray | None = None
    target_kinds: dict[str, str] | None = None  # "multi": each target column's kind
    left_out: dict[str, str] = field(default_factory=dict)  # row index/identifier -> why


def load_splits(data: DataConfig, target_kind: str | None, seed: int) -> Splits:
    """Read ``data.source``, split it (by ``seed``; stratified when ``target_kind`` is
    ``"labels"``), fit the preprocessing on the training split and transform all three splits.

    ``target_kind``: ``"labels"``, ``"values"`` or None (no targets)."""
    return splits_from_raw(read_source(data, seed), data, target_kind, seed)


def examples_of(raw: RawData, data: DataConfig, target_kind: str | None) -> Examples:
    """Pick the input columns and the target column(s) of a table, or the arrays x/y.

    Without targets (``target_kind=None``) an array source's ``y`` is ignored, and a table's target
    column(s), when named or known, are still left out of the inputs but not returned."""
    wanted = target_kind is not None
    if raw.table is None:
        if target_kind == MULTI:
            raise DataError(
                f"data.target: several targets need a table with named columns, but "
                f"'{raw.source}' holds arrays"
            )
        if data.features is not None:
            raise DataError(
                f"data.features: selects table columns, but '{raw.source}' holds arrays"
            )
        assert raw.x is not None, "array sources give x"
        if not wanted:
            return Examples(raw.x, None, None, raw.x_test)
        assert raw.y is not None, "array sources read for targets give y"
        return Examples(raw.x, raw.y, None, raw.x_test, raw.y_test)
    table = raw.table
    columns = [str(c) for c in table.columns]
    target = data.target if data.target is not None else raw.default_target
    if target is None and wanted:
        raise DataError(
            f"data.target: required for the table '{raw.source}': name the label column "
            f"(columns: {', '.join(columns)})"
        )
    names = [] if target is None else [target] if isinstance(target, str) else list(target)
    for name in [*names, *(data.features or [])]:
        if name not in table.columns:
            key = "data.target" if name in names else "data.features"
            raise DataError(
                f"{key}: column '{name}' not found in '{raw.source}'"
                f"{did_you_mean(name, columns)}; columns: {', '.join(columns)}"
            )
    for name in data.drop:
        if name not in table.columns:
            raise DataError(
                f"data.drop: column '{name}' not found in '{raw.source}'"
                f"{did_you_mean(name, columns)}; columns: {', '.join(columns)}"
            )
    candidates = [c for c in table.columns if c not in names and c not in data.drop]
    left_out = {} if data.features else left_out_columns(table[candidates], is_date_column)
    chosen = [c for c in data.features or candidates if c not in left_out and c not in data.drop]
    if left_out:
        warnings.warn(
            f"{raw.source}: left out "
            + ", ".join(f"'{name}' ({why})" for name, why in left_out.items())
            + "; name the columns to use in data.features to keep them",
            stacklevel=user_stacklevel(),
        )
    overlap = [c for c in chosen if c in names]
    if overlap:
        raise DataError(f"data.features: {overlap} is also the target; a target is not an input")
    refuse_infinite(raw.source, table, chosen, names if wanted else [])
    inputs = table[chosen].reset_index(drop=True)
    if not wanted:
        return Examples(inputs, None, None, left_out=left_out)
    values = table[names[0]].to_numpy() if len(names) == 1 else table[names].to_numpy()
    kinds = target_kinds(target, table, names) if target_kind == MULTI else None
    return Examples(inputs, values, names, target_kinds=kinds, left_out=left_out)


def refuse_infinite(source: str, table: pd.DataFrame, inputs: list, targets: list) -> None:
    """One line for the first input or target column holding ±inf: a missing value is imputed
    (inputs) or its row dropped (targets), but an infinite one is a broken value that would be
    imputed silently or surface later as a non-finite loss."""
    for name in [*targets, *inputs]:
        column = table[name]
        if not pd.api.types.is_float_dtype(column.dtype):  # only floats hold ±inf
            continue
        infinite = np.isinf(column.to_numpy(dtype=np.float64, na_value=np.nan))
        if infinite.any():
            key, what = INFINITE_HINTS["target" if name in targets else "input"]
            raise DataError(
                f"{key}: column '{name}' of '{source}' holds ±inf in {int(infinite.sum())} "
                f"row(s) (the first is data row {int(np.argmax(infinite)) + 1}); {what}"
            )


INFINITE_HINTS = {  # the key to blame and what to do, for an input or a target column
    "input": (
        "data.source",
        "inputs must be finite (fix the rows, or leave the column out with data.drop)",
    ),
    "target": ("data.target", "targets must be finite numbers (fix or remove those rows)"),
}


def _drop_missing_targets(examples: Examples, source: str) -> tuple[Examples, np.ndarray]:
    """Drop rows without a target (with a warning); also give the source rows that were kept."""
    if examples.targets is None:
        return examples, np.arange(len(examples.features))
    targets = np.asarray(examples.targets, dtype=object)
    missing = pd.DataFrame(targets.reshape(len(targets), -1)).isna().any(axis=1).to_numpy()
    kept = np.flatnonzero(~missing)
    if not missing.any():
        return examples, kept
    warnings.warn(
        f"{source}: dropped {int(missing.sum())} row(s) with a missing target "
        f"{examples.target_names or 'y'}",
        stacklevel=user_stacklevel(),
    )
    thinned = replace(
        examples, features=_rows(examples.features, kept), targets=examples.targets[kept]
    )
    return thinned, kept


def _rows(features: pd.DataFrame | np.ndarray, index: np.ndarray) -> pd.DataFrame | np.ndarray:
    if isinstance(features, pd.DataFrame):
        return features.iloc[index].reset_index(drop=True)
    return features[index]


def _split_rows(
    examples: Examples, data: DataConfig, target_kind: str | None, seed: int, source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices (train, valid, test) of ``examples``: stratified for labels, by ``seed``."""
    n = len(examples.features)
    n_fixed = 0 if examples.test_features is None else len(examples.test_features)
    n_valid, n_test = split_sizes(n, data.valid, data.test, n_fixed)
    if n - n_valid - n_test < 2:
        raise DataError(
            f"data: '{source}' has {n} rows, too few for valid={data.valid} and test={data.test}"
        )
    strata = _strata(examples, target_kind)
    if strata is not None:
        codes = pd.factorize(pd.Series(label_list(strata, as_text=True)))[0]
        return stratified_split(codes, n_valid, n_test, seed)
    return plain_split(n, n_valid, n_test, seed)


def _strata(examples: Examples, target_kind: str | None) -> np.ndarray | None:
    """The labels a split is stratified by: the targets when they are labels; with several
    targets, the first column of labels; None (a plain split) otherwise."""
    if target_kind == "labels":
        return examples.targets
    if target_kind == MULTI and examples.target_kinds and examples.targets is not None:
        kinds = list(examples.target_kinds.values())
        if "labels" in kinds:
            targets = np.asarray(examples.targets, dtype=object)
            return targets.reshape(len(targets), -1)[:, kinds.index("labels")]
    return None


def load_test_split(
    data: DataConfig, target_kind: str | None, seed: int, pre: Preprocessor
) -> tuple[np.ndarray, np.ndarray | None]:
    """The test split of :func:`load_splits` (same rows, same encoding) for a run whose
    preprocessing ``pre`` was fitted already: nothing is refitted, and the training and
    validation rows are not encoded (evaluate, the report)."""
    raw = read_source(data, seed)
    examples, _ = _drop_missing_targets(examples_of(raw, data, target_kind), raw.source)
    test = None
    if examples.test_features is None:
        test = _split_rows(examples, data, target_kind, seed, raw.source)[2]
    return _encode(pre, target_kind, *_test_rows(examples, test))


def _values(y: np.ndarray | None, index: np.ndarray) -> np.ndarray | None:
    """The targets at ``index`` (None without targets)."""
    return None if y is None else y[index]


def _test_rows(examples: Examples, test: np.ndarray | None) -> tuple[Any, np.ndarray | None]:
    """The test inputs and targets: the source's fixed test split, else the rows at ``test``."""
    if examples.test_features is not None:
        return examples.test_features, examples.test_targets
    assert test is not None, "a split without a fixed test part has test rows"
    return _rows(examples.features, test), _values(examples.targets, test)


def _encode(
    pre: Preprocessor, target_kind: str | None, x: Any, y: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs and targets through the fitted preprocessing (a rare category missing from the
    training rows becomes all-zero, with a warning)."""
    encoded = pre.transform_features(x, warn_missing=False, unseen="zeros")
    return encoded, None if target_kind is None else pre.encode_target(y)


def splits_from_raw(
    raw: RawData,
    data: DataConfig,
    target_kind: str | None,
    seed: int,
    one_hot_max: int | None = None,
) -> Splits:
    """:func:`load_splits` for data already read; ``one_hot_max``: a table's categorical
    columns with more categories are embedded (None: all one-hot)."""
    examples, kept = _drop_missing_targets(examples_of(raw, data, target_kind), raw.source)
    n_dropped = len(raw) - len(kept)
    if target_kind is not None:  # whole-data checks first
        fit_target_encoder(
            examples.targets, target_kind, examples.target_names, kinds=examples.target_kinds
        )
    n_fixed = 0 if examples.test_features is None else len(examples.test_features)
    stratify = _strata(examples, target_kind) is not None
    train, valid, test = _split_rows(examples, data, target_kind, seed, raw.source)

    scale_target = bool(data.options.get("scale_target", GENERIC_OPTIONS["scale_target"]))
    features, values = examples.features, examples.targets
    pre = Preprocessor.fit(
        _rows(features, train),
        _values(values, train),
        target_kind=target_kind,
        scale=data.scale,
        target_names=examples.target_names,
        scale_target=scale_target,
        target_kinds=examples.target_kinds,
        one_hot_max=one_hot_max,
    )
    x_train, y_train = _encode(pre, target_kind, _rows(features, train), _values(values, train))
    x_valid, y_valid = _encode(pre, target_kind, _rows(features, valid), _values(values, valid))
    x_test, y_test = _encode(pre, target_kind, *_test_rows(examples, test))
    missing = _missing_values(features)
    imputed = [name for name in missing if name in {s["name"] for s in pre.columns or []}]
    if imputed:
        warnings.warn(
            f"{raw.source}: imputed missing values (training median/mode) in column(s) "
            + ", ".join(f"{name} ({missing[name]})" for name in imputed),
            stacklevel=user_stacklevel(),
        )
    profile = build_profile(
        raw,
        target_kind,
        pre,
        missing,
        n_dropped,
        stratify,
        {"train": len(x_train), "valid": len(x_valid), "test": len(x_test)},
        (y_train, y_valid, y_test),
        fixed_test=n_fixed > 0,
    )
    if examples.left_out:
        profile["left_out_columns"] = examples.left_out
    if pre.columns and target_kind in ("labels", "values") and y_valid is not None:
        _screen_leakage(raw.source, profile, pre, (x_train, y_train, x_valid, y_valid), seed)
    indices = {"train": kept[train], "valid": kept[valid]}
    indices["test"] = np.arange(n_fixed) if n_fixed else kept[test]
    return Splits(x_train, y_train, x_valid, y_valid, x_test, y_test, pre, profile, indices)


def _screen_leakage(
    source: str, profile: dict[str, Any], pre: Preprocessor, arrays: tuple, seed: int
) -> None:
    """Columns that alone predict the target almost perfectly (:mod:`.leakage`): recorded in
    the profile (the doctor's ``target_leakage``) and said in one line."""
    groups = leakage.feature_groups(pre.columns or [])
    suspects = leakage.screen(*arrays, groups, labels=pre.target_kind == "labels", seed=seed)
    if suspects:
        profile["leakage"] = suspects
        found = ", ".join(
            f"column '{s['column']}' alone scores {s['metric']} {s['score']:.4f}" for s in suspects
        )
        warnings.warn(
            f"{source}: {found} on the validation rows: target leakage? (see gradwise doctor)",
            stacklevel=user_stacklevel(),
        )


def _missing_values(features: pd.DataFrame | np.ndarray) -> dict[str, int]:
    """Missing cells per table column (before imputation), for columns that have any."""
    if not isinstance(features, pd.DataFrame):
        return {}
    counts = features.isna().sum()
    return {str(name): int(count) for name, count in counts.items() if count > 0}


def build_profile(
    raw: RawData,
    target_kind: str | None,
    pre: Preprocessor,
    missing: dict[str, int],
    n_dropped: int,
    stratified: bool,
    sizes: dict[str, int],
    encoded: tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None],
    fixed_test: bool,
) -> dict[str, Any]:
    """The dataset profile (JSON-able): size, dimensionality, columns, missing values, classes.

    ``sizes`` are the rows per split; ``encoded`` the encoded targets of train/valid/test."""
    columns = pre.columns or []
    profile: dict[str, Any] = {
        "source": raw.source,
        "targets": target_kind,
        "input_kind": pre.input_kind,
        "rows": sum(sizes.values()),
        "features": int(np.prod(pre.feature_shape)),
        "feature_shape": list(pre.feature_shape),
        "target": None if pre.target is None else pre.target.names,
        "numeric_columns": [c["name"] for c in columns if c["kind"] == "numeric"],
        "categorical_columns": [c["name"] for c in columns if c["kind"] == "categorical"],
        "date_columns": [c["name"] for c in columns if c["kind"] == "datetime"],
        # column -> its categories, for the columns the model embeds
        "embedded_columns": {
            c["name"]: len(c["categories"]) for c in columns if c["kind"] == "embedded"
        },
        "dropped_columns": list(pre.dropped_columns),
        "missing_values": missing,
        "rows_dropped_missing_target": n_dropped,
        "splits": sizes,
        "fixed_test_split": fixed_test,
        "stratified": stratified,
    }
    if pre.classes is not None:
        counts = {
            name: np.bincount(y, minlength=len(pre.classes)).tolist()
            for name, y in zip(("train", "valid", "test"), encoded, strict=True)
        }
        train_counts = np.asarray(counts["train"])
        profile["classes"] = pre.classes
        profile["class_counts"] = counts
        profile["imbalance_ratio"] = float(train_counts.max() / max(train_counts.min(), 1))
    if isinstance(pre.target, MultiTargetEncoder):
        profile["target_columns"] = target_columns_profile(pre.target, encoded)
    return to_jsonable(profile)


def target_columns_profile(
    target: MultiTargetEncoder,
    encoded: tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None],
) -> dict[str, Any]:
    """Several targets: each column's kind and, for labels, its classes and class counts per
    split (as ``classes``/``class_counts`` describe a single labels target)."""
    columns: dict[str, Any] = {}
    for j, (name, part) in enumerate(zip(target.names, target.parts, strict=True)):
        entry: dict[str, Any] = {"kind": part.kind}
        if part.classes is not None:
            entry["classes"] = part.classes
            entry["class_counts"] = {
                split: np.bincount(
                    np.asarray(y, dtype=np.int64).reshape(len(y), -1)[:, j],
                    minlength=len(part.classes),
                ).tolist()
                for split, y in zip(("train", "valid", "test"), encoded, strict=True)
                if y is not None
            }
        columns[name] = entry
    return columns


def train_targets_of_columns(columns: dict[str, Any] | None) -> np.ndarray | None:
    """Several targets: training targets (n, T) with each labels column's class counts as
    :func:`target_columns_profile` recorded them (in class order; value columns are 0), for
    what depends on the counts alone (imbalance, class weights). None without such a record."""
    if not columns:
        return None
    counted = [c["class_counts"]["train"] for c in columns.values() if "class_counts" in c]
    if not counted:
        return None
    n = int(sum(counted[0]))
    y = np.zeros((n, len(columns)), dtype=np.float32)
    for j, entry in enumerate(columns.values()):
        if "class_counts" in entry:
            counts = entry["class_counts"]["train"]
            y[:, j] = np.repeat(np.arange(len(counts)), counts)
    return y
