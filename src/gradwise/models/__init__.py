"""Model builders, registered by name (``model.kind``)."""

# importing the builders registers the built-in models
from gradwise.models import cnn, mlp, rnn, transformer  # noqa: F401
from gradwise.models.registry import MODELS, build_model, count_parameters

__all__ = ["MODELS", "build_model", "count_parameters"]
