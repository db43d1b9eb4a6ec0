"""Load a tabular classification dataset and split it, with one-line errors for bad input.

Shared by every tabular plugin (``runner-torch`` imports it), so a CSV that one plugin accepts
the other accepts too. Problems a user can fix raise :class:`runner.InputError`; they are found
in ``runner_prepare``, before any MLflow run exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from runner import InputError
from runner_sklearn.params import DatasetParams


@dataclass(frozen=True)
class TabularData:
    """Numeric features and class labels of one dataset, plus where they came from."""

    features: pd.DataFrame
    target: pd.Series
    name: str
    source: str
    class_names: tuple[str, ...]

    @property
    def target_name(self) -> str:
        """The label column's name (``target`` for bundled datasets)."""
        return str(self.target.name)

    @property
    def classes(self) -> np.ndarray:
        """The distinct labels, sorted (the order of ``class_names``)."""
        return np.unique(self.target.to_numpy())

    @property
    def frame(self) -> pd.DataFrame:
        """Features and label in one table, as logged to MLflow."""
        return self.features.assign(**{self.target_name: self.target})


@dataclass(frozen=True)
class Split:
    """A train/test split of features and labels."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def load_dataset(spec: DatasetParams) -> TabularData:
    """Load ``spec``: a scikit-learn bundled dataset or a CSV file."""
    if spec.name == "csv":
        assert spec.path is not None  # guaranteed by DatasetParams
        return _load_csv(Path(spec.path).expanduser(), spec.target)
    return _load_bundled(spec.name)


def _load_bundled(name: str) -> TabularData:
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    bunch = loader(as_frame=True)
    names = tuple(str(n) for n in bunch.target_names)
    return TabularData(
        bunch.data, bunch.target, name, f"sklearn.datasets.load_{name}", names
    )


def _load_csv(path: Path, target: str | None) -> TabularData:
    if not path.is_file():
        raise InputError(f"dataset.path: no such file: {path}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"dataset.path: cannot read {path} as CSV: {first_line}") from None
    if frame.shape[1] < 2:
        raise InputError(f"dataset.path: {path} needs feature columns and a label column")
    if frame.empty:
        raise InputError(f"dataset.path: {path} has a header but no rows")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    target = target if target is not None else columns[-1]
    if target not in columns:
        raise InputError(
            f"dataset.target: no column {target!r} in {path.name} (columns: {_preview(columns)})"
        )
    features = frame.drop(columns=[target])
    labels = frame[target]
    not_numeric = [
        c for c in features.columns
        if not (ptypes.is_numeric_dtype(features[c]) or ptypes.is_bool_dtype(features[c]))
    ]
    if not_numeric:
        raise InputError(
            f"dataset.path: feature columns must be numeric; not numeric in {path.name}: "
            f"{_preview(not_numeric)}"
        )
    features = features.astype("float64")
    missing = [c for c in columns if frame[c].isna().any()]
    if missing:
        raise InputError(f"dataset.path: missing values in {path.name} columns {_preview(missing)}")
    if ptypes.is_float_dtype(labels) and not np.all(np.mod(labels.to_numpy(), 1) == 0):
        raise InputError(
            f"dataset.target: {target!r} holds continuous numbers; classification needs labels"
        )
    if ptypes.is_float_dtype(labels):
        labels = labels.astype("int64")
    if labels.nunique() < 2:
        raise InputError(f"dataset.target: {target!r} has fewer than two classes")
    names = tuple(str(c) for c in np.unique(labels.to_numpy()))
    return TabularData(features, labels, path.stem, str(path.resolve()), names)


def rows_needed(n_classes: int, test_size: float) -> int:
    """The fewest rows a stratified split with ``test_size`` can give every class both sides."""
    rows = 2 * n_classes
    while not (n_classes <= int(np.ceil(test_size * rows)) <= rows - n_classes):
        rows += 1
    return rows


def split(X: pd.DataFrame, y: pd.Series, test_size: float, seed: int) -> Split:
    """Split rows into train and test, stratified by label, every class on both sides.

    :raises InputError: too few rows (or a class with one row): scores on a test split that
        misses a class, or on one row, would mean nothing.
    """
    from sklearn.model_selection import train_test_split

    counts = y.value_counts()
    needed = rows_needed(len(counts), test_size)
    if len(y) < needed or counts.min() < 2:
        smallest = counts.idxmin()
        raise InputError(
            f"{len(y)} rows are too few to split with test_size={test_size}: every class needs "
            f"rows on both sides, so at least {needed} rows and 2 per class (class "
            f"{str(smallest)!r} has {counts.min()})"
        )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    return Split(X_train, X_test, y_train, y_test)


def _preview(names: list[str], limit: int = 8) -> str:
    """Name a few columns, not hundreds, in an error line."""
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
