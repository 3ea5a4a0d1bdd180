"""The ``compare:`` section: classical baselines against the deep model(s), on the same splits.

```yaml
compare:
  baselines: [logistic_regression, random_forest, hist_gradient_boosting]  # default: all that apply
  models:                      # extra deep variants beside `model`, each validated like `model`
    - {kind: mlp, hidden: [256, 256]}
  fractions: [0.1, 0.25, 0.5, 1.0]   # learning curves: shares of the training split (1.0 added)
  seeds: 3                           # repeats; the spread across seeds decides ties
  metric: accuracy                   # default: accuracy (classification) / rmse (regression)
  threads: 1                         # CPU threads for every fit, classical and deep alike
```

Every fit gets the same CPU thread budget (``threads``, default: torch's thread count), so fit
times compare like for like: the classical libraries' OpenMP/BLAS pools and ``n_jobs`` are
limited to it, and torch runs with it.

Baseline names are checked against the baseline registry when the comparison starts (the
registry lives with the feature, not in the schema).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from gradwise.config.errors import NestedProblem, first_problem
from gradwise.config.models import DEFAULT_MODEL_KIND, ModelConfig
from gradwise.config.sections import Section

_MODEL_SECTION: TypeAdapter[Any] = TypeAdapter(ModelConfig)  # validates one entry like `model`

CompareMetric = Literal["accuracy", "f1", "auc", "rmse", "mae", "r2"]
METRICS_BY_TARGETS: dict[str, tuple[str, ...]] = {  # by the task's target_kind; first: default
    "labels": ("accuracy", "f1", "auc"),
    "values": ("rmse", "mae", "r2"),
}


class CompareConfig(Section):
    baselines: list[str] | None = None  # classical models by name; None: every applicable one
    models: list[ModelConfig] = Field(default_factory=list)  # extra deep model variants
    fractions: list[float] = Field(default_factory=lambda: [0.1, 0.25, 0.5, 1.0])
    seeds: Annotated[int, Field(ge=1, le=100)] = 3  # seeds config.seed, config.seed + 1, ...
    metric: CompareMetric | None = None  # None: the task's main metric (accuracy / rmse)
    threads: Annotated[int, Field(ge=1)] | None = None  # CPU threads per fit; None: torch's

    @model_validator(mode="before")
    @classmethod
    def _models_validated_like_model(cls, raw: Any) -> Any:
        """Each entry of ``models`` is checked as the main ``model`` section would be, so its
        errors name the entry's own keys (``compare.models.1.hidden.0: ...``)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("models"), list):
            return raw
        entries = [
            {"kind": DEFAULT_MODEL_KIND, **m} if isinstance(m, dict) else m for m in raw["models"]
        ]
        for index, entry in enumerate(entries):
            try:
                _MODEL_SECTION.validate_python(entry)
            except ValidationError as exc:
                raise NestedProblem(first_problem(exc, ModelConfig, f"models.{index}")) from None
        return {**raw, "models": entries}

    @field_validator("fractions")
    @classmethod
    def _fractions_are_shares(cls, values: list[float]) -> list[float]:
        if not values:
            raise ValueError("must list at least one share of the training split, e.g. [1.0]")
        for value in values:
            if not 0.0 < value <= 1.0:
                raise ValueError("every fraction must be in (0, 1], a share of the training split")
        if len(set(values)) != len(values):
            raise ValueError("must be distinct")
        return sorted({*values, 1.0})  # the table is measured on the whole training split

    @field_validator("baselines")
    @classmethod
    def _baselines_distinct(cls, values: list[str] | None) -> list[str] | None:
        if values is not None and len(set(values)) != len(values):
            raise ValueError("must be distinct")
        return values
