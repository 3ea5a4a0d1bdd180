"""Static metadata of the built-in datasets, for ``gradwise datasets`` and ``gradwise init``.

Plain literals only: importing this module must stay cheap (no numpy, pandas or scikit-learn).
``rows`` and ``features`` describe the source as read (input columns before encoding, or the
flattened array size); ``targets`` is the dataset's natural target kind (``labels`` or
``values``, what ``load_splits`` takes); ``classes`` is None for values. A test checks them
against the data.
"""

from __future__ import annotations

from typing import Any

BUILTIN_DATASETS: list[dict[str, Any]] = [
    {
        "name": "mnist1d",
        "kind": "signal",
        "targets": "labels",
        "rows": 5000,
        "features": 40,
        "classes": 10,
        "target": None,
        "description": "MNIST-1D: digit templates as 1-D signals (1, 40), shifted, scaled "
        "and noised; fixed 4000/1000 train/test split (Greydanus & Kobak 2024)",
    },
    {
        "name": "sklearn:digits",
        "kind": "tabular",
        "targets": "labels",
        "rows": 1797,
        "features": 64,
        "classes": 10,
        "target": "target",
        "description": "8x8 handwritten digits; options.as_image gives (1, 8, 8) images",
    },
    {
        "name": "sklearn:iris",
        "kind": "tabular",
        "targets": "labels",
        "rows": 150,
        "features": 4,
        "classes": 3,
        "target": "target",
        "description": "Iris flowers: sepal and petal measurements of three species",
    },
    {
        "name": "sklearn:wine",
        "kind": "tabular",
        "targets": "labels",
        "rows": 178,
        "features": 13,
        "classes": 3,
        "target": "target",
        "description": "Chemical analysis of wines from three cultivars",
    },
    {
        "name": "sklearn:breast_cancer",
        "kind": "tabular",
        "targets": "labels",
        "rows": 569,
        "features": 30,
        "classes": 2,
        "target": "target",
        "description": "Wisconsin breast cancer: cell-nucleus features, malignant or benign",
    },
    {
        "name": "sklearn:diabetes",
        "kind": "tabular",
        "targets": "values",
        "rows": 442,
        "features": 10,
        "classes": None,
        "target": "target",
        "description": "Diabetes progression one year after baseline, from 10 measurements",
    },
    {
        "name": "rdata:Ecdat/Hdma",
        "kind": "tabular",
        "targets": "labels",
        "rows": 2381,
        "features": 12,
        "classes": 2,
        "target": "deny",
        "description": "Boston mortgage applications: was the loan denied? Imbalanced, has "
        "missing values and yes/no columns",
    },
    {
        "name": "rdata:COUNT/titanic",
        "kind": "tabular",
        "targets": "labels",
        "rows": 1316,
        "features": 3,
        "classes": 2,
        "target": "survived",
        "description": "Titanic passengers: class, age and sex; did they survive? All categorical",
    },
    {
        "name": "rdata:Ecdat/Computers",
        "kind": "tabular",
        "targets": "values",
        "rows": 6259,
        "features": 9,
        "classes": None,
        "target": "price",
        "description": "Prices of personal computers 1993-1995 from their specifications",
    },
    {
        "name": "rdata:ggplot2/diamonds",
        "kind": "tabular",
        "targets": "values",
        "rows": 53940,
        "features": 9,
        "classes": None,
        "target": "price",
        "description": "Prices of ~54,000 diamonds from carat, cut, colour, clarity and size",
    },
    {
        "name": "rdata:MASS/Boston",
        "kind": "tabular",
        "targets": "values",
        "rows": 506,
        "features": 13,
        "classes": None,
        "target": "medv",
        "description": "Boston housing: median home value by suburb",
    },
    {
        "name": "rdata:datasets/airquality",
        "kind": "tabular",
        "targets": "values",
        "rows": 153,
        "features": 5,
        "classes": None,
        "target": "Ozone",
        "description": "New York air quality 1973: ozone from sun, wind and temperature; "
        "many missing values",
    },
    {
        "name": "synthetic:classification",
        "kind": "tabular",
        "targets": "labels",
        "rows": 1000,
        "features": 20,
        "classes": 2,
        "target": "target",
        "description": "scikit-learn make_classification; options: n_samples, n_features, "
        "n_classes, weights (imbalance), class_sep, flip_y",
    },
    {
        "name": "synthetic:regression",
        "kind": "tabular",
        "targets": "values",
        "rows": 1000,
        "features": 10,
        "classes": None,
        "target": "target",
        "description": "scikit-learn make_regression; options: n_samples, n_features, noise, "
        "n_targets",
    },
    {
        "name": "synthetic:moons",
        "kind": "tabular",
        "targets": "labels",
        "rows": 1000,
        "features": 2,
        "classes": 2,
        "target": "target",
        "description": "Two interleaving half circles (not linearly separable); options: noise",
    },
    {
        "name": "synthetic:blobs",
        "kind": "tabular",
        "targets": "labels",
        "rows": 1000,
        "features": 2,
        "classes": 3,
        "target": "target",
        "description": "Gaussian blobs; options: n_features, centers, cluster_std",
    },
    {
        "name": "synthetic:signals",
        "kind": "signal",
        "targets": "labels",
        "rows": 1000,
        "features": 64,
        "classes": 4,
        "target": None,
        "description": "Waveforms (1, 64): sine, square, sawtooth, triangle with random "
        "frequency, phase, amplitude and noise; options: length, noise, weights",
    },
    {
        "name": "synthetic:images",
        "kind": "image",
        "targets": "labels",
        "rows": 1000,
        "features": 256,
        "classes": 4,
        "target": None,
        "description": "Images (1, 16, 16) of a bar: horizontal, vertical or diagonal, at random "
        "offsets and widths with noise; options: size, noise, weights",
    },
]
