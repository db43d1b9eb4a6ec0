"""runner-sklearn: scikit-learn classifiers on tabular data, tracked by runner.

Besides the ``sklearn`` experiment type it offers, for other tabular plugins (``runner-torch``),
the dataset params (:mod:`runner_sklearn.params`), the loader (:mod:`runner_sklearn.data`),
classification metrics (:mod:`runner_sklearn.metrics`, declared once in the light
:mod:`runner_sklearn.metric_specs`) and reports (:mod:`runner_sklearn.reports`).
This module imports nothing heavy.
"""
