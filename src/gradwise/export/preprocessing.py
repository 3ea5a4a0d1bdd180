"""The preprocessing an exported model needs in another runtime, as plain JSON (torch-free).

The exported model takes *unscaled* float64 features: the scaling gradwise fitted on the
training split is folded into the model (its first operation is ``z = (x - offset) / factor``,
in float64 as gradwise computes it, then float32 for the network), and so
is the last step of prediction (class probabilities, or regression values in the target's own
units: ``y = outputs · std + mean``). What is left to the caller is written beside the model:

- arrays (signals, images): nothing but the shape and dtype — pass the raw array;
- tables: the input columns in order, each numeric column's fill value for missing cells,
  each categorical column's categories, one-hot encoded in that order (a missing category:
  the fill value; an unseen one: an all-zero block), each embedded column's categories (one
  feature: the category's index, -1 when unseen), each date column's parts. A column kind
  is exported through its recipe in :data:`COLUMN_RECIPES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

FORMAT_VERSION = 1


ColumnRecipe = Callable[[dict[str, Any]], tuple[dict[str, Any], list[float], list[float]]]
# a table column's kind -> (its JSON entry, the offset and factor of each of its features)
COLUMN_RECIPES: dict[str, ColumnRecipe] = {}


def column_recipe(kind: str) -> Callable[[ColumnRecipe], ColumnRecipe]:
    def register(recipe: ColumnRecipe) -> ColumnRecipe:
        COLUMN_RECIPES[kind] = recipe
        return recipe

    return register


@column_recipe("numeric")
def _numeric(spec: dict[str, Any]) -> tuple[dict[str, Any], list[float], list[float]]:
    entry = {"fill": spec["fill"], "scaling": {"offset": spec["offset"], "factor": spec["factor"]}}
    return entry, [spec["offset"]], [spec["factor"]]


@column_recipe("categorical")
def _categorical(spec: dict[str, Any]) -> tuple[dict[str, Any], list[float], list[float]]:
    width = len(spec["categories"])
    return {"fill": spec["fill"], "categories": spec["categories"]}, [0.0] * width, [1.0] * width


@column_recipe("embedded")
def _embedded(spec: dict[str, Any]) -> tuple[dict[str, Any], list[float], list[float]]:
    entry = {"fill": spec["fill"], "categories": spec["categories"], "encoding": "index"}
    return entry, [0.0], [1.0]


@column_recipe("datetime")
def _datetime(spec: dict[str, Any]) -> tuple[dict[str, Any], list[float], list[float]]:
    entry = {
        "parts": spec["parts"],
        "fill": spec["fill"],
        "scaling": {"offset": spec["offset"], "factor": spec["factor"]},
        "recipe": "the date in UTC (naive dates as they are): year, month (1-12), day, weekday "
        "(Monday = 0), hour, elapsed_days (days since 1970-01-01, with the time of day as a "
        "fraction); only the parts listed, in their order",
    }
    return entry, list(spec["offset"]), list(spec["factor"])


def _recipe(spec: dict[str, Any]) -> tuple[dict[str, Any], list[float], list[float]]:
    recipe = COLUMN_RECIPES.get(spec["kind"])
    if recipe is None:
        from gradwise.export.formats import ExportError

        raise ExportError(
            f"column '{spec['name']}': no export recipe for columns of kind '{spec['kind']}' "
            f"(known: {', '.join(COLUMN_RECIPES)})"
        )
    return recipe(spec)


def scaling_vectors(preprocessor: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, factor)`` shaped to broadcast over a batch ``(N, *feature_shape)``: per
    encoded feature for tables (one-hot features: 0 and 1), per feature for ``(N, F)``
    arrays, per channel for ``(N, C, ...)`` arrays."""
    shape = tuple(preprocessor.feature_shape)
    if preprocessor.columns is not None:
        offset: list[float] = []
        factor: list[float] = []
        for spec in preprocessor.columns:
            _, column_offset, column_factor = _recipe(spec)
            offset += column_offset
            factor += column_factor
        return np.asarray(offset).reshape(1, *shape), np.asarray(factor).reshape(1, *shape)
    broadcast = (1, -1) if len(shape) == 1 else (1, -1, *([1] * (len(shape) - 1)))
    return (
        np.asarray(preprocessor.offset, dtype=np.float64).reshape(broadcast),
        np.asarray(preprocessor.factor, dtype=np.float64).reshape(broadcast),
    )


def table_columns(preprocessor: Any) -> list[dict[str, Any]]:
    """Each input column with the positions of its features in the model's input."""
    columns: list[dict[str, Any]] = []
    position = 0
    for spec in preprocessor.columns:
        entry, offset, _ = _recipe(spec)
        width = len(offset)
        positions = list(range(position, position + width))
        columns.append(
            {"name": spec["name"], "kind": spec["kind"], **entry, "positions": positions}
        )
        position += width
    return columns


def preprocessing_spec(
    run: Any, format_name: str, model_file: str, output: dict[str, Any]
) -> dict[str, Any]:
    """The JSON written beside an exported model: its input and output, and the steps from
    raw rows to that input."""
    pre = run.preprocessor
    offset, factor = scaling_vectors(pre)
    spec: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "format": format_name,
        "model_file": model_file,
        "run": str(run.path),
        "task": run.config.task,
        "model": run.config.model.kind,
        "input": {
            "name": "features",
            "dtype": "float64",
            "shape": ["batch", *pre.feature_shape],
            "kind": pre.input_kind,
        },
        "output": output,
        "folded_into_model": ["scaling", *output.get("folded", [])],
        "scaling": {
            "method": pre.scale,
            "axis": _scaling_axis(pre),
            "offset": offset.reshape(-1).tolist(),
            "factor": factor.reshape(-1).tolist(),
            "note": "applied inside the model (in float64): z = (features - offset) / factor",
        },
        "classes": run.classes,
    }
    if pre.columns is not None:
        spec["feature_names"] = pre.feature_names
        spec["columns"] = table_columns(pre)
        spec["dropped_columns"] = list(pre.dropped_columns)
        spec["steps"] = [
            "take the input columns in the order of 'columns' (others are ignored)",
            "numeric column: the number, or 'fill' when missing",
            "categorical column: a one-hot block over 'categories' in order ('fill' when "
            "missing; an unseen category gives all zeros)",
            "embedded column: one feature, the index of the category in 'categories' ('fill' "
            "when missing; -1 for an unseen category)",
            "datetime column: its 'parts' as its 'recipe' says ('fill' of a part when missing)",
            "concatenate the blocks into float64 features of shape (batch, "
            f"{pre.feature_shape[0]}); do not scale them",
        ]
    else:
        shape = ", ".join(map(str, pre.feature_shape))
        spec["steps"] = [f"pass the raw arrays as float64 of shape (batch, {shape}); do not scale"]
    return spec


def _scaling_axis(pre: Any) -> str:
    if pre.columns is not None:
        return "feature"
    return "feature" if len(pre.feature_shape) == 1 else "channel"
