"""Model builders, registered by name (``model.kind``)."""

from gradwise.models import cnn, mlp, rnn  # noqa: F401  (registers the built-in models)
from gradwise.models.registry import MODELS, build_model, count_parameters

__all__ = ["MODELS", "build_model", "count_parameters"]
