"""The kinds of targets a dataset is read for (plain constants: importable from anywhere without
numpy or pandas, e.g. by the config schema)."""

from __future__ import annotations

TARGET_KINDS = ("labels", "values")  # and None: no targets (features only)
MULTI = "multi"  # several target columns, each of its own kind (labels or values)
# data.target as a mapping column -> kind names the kinds by the task that learns them
KIND_OF_TASK = {"classification": "labels", "regression": "values"}
