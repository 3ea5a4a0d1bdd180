"""gradwise models as scikit-learn estimators: ``NeuralClassifier`` and ``NeuralRegressor``.

They train through gradwise's own engine (in memory, nothing written) and work wherever
scikit-learn estimators do: ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, ``clone``,
pickling. Any model kind and training option is a constructor parameter, or comes from
``config=`` (an experiment YAML path or dict) under the parameters::

    from gradwise.sklearn import NeuralClassifier
    from sklearn.model_selection import cross_val_score

    clf = NeuralClassifier("cnn1d", epochs=20, options={"model.channels": [16, 32]})
    cross_val_score(clf, X, y, cv=5)
"""

from gradwise.sklearn._estimators import NeuralClassifier, NeuralRegressor
from gradwise.sklearn._params import InputError, ParameterError

__all__ = ["InputError", "NeuralClassifier", "NeuralRegressor", "ParameterError"]
