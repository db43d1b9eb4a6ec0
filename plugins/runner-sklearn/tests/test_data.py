"""Dataset loading and splitting: bundled sets, CSV files, and one-line errors for bad CSVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets

from runner import InputError
from runner_sklearn.data import load_dataset, split
from runner_sklearn.params import BUNDLED_DATASETS, DatasetParams


@pytest.mark.parametrize("name", BUNDLED_DATASETS)
def test_bundled_datasets_load_numeric_features_and_labels(name):
    bunch = getattr(datasets, f"load_{name}")()  # scikit-learn's own copy, as arrays
    data = load_dataset(DatasetParams(name=name))
    assert data.features.shape == bunch.data.shape
    assert all(pd.api.types.is_numeric_dtype(t) for t in data.features.dtypes)
    assert np.array_equal(data.target.to_numpy(), bunch.target)
    assert list(data.class_names) == [str(n) for n in bunch.target_names]
    assert np.array_equal(data.classes, np.unique(bunch.target))
    assert data.frame.columns[-1] == data.target_name
    assert data.source == f"sklearn.datasets.load_{name}"


def write_csv(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def toy_frame(rows: int = 20) -> pd.DataFrame:
    return pd.DataFrame({
        "x1": [float(i) for i in range(rows)],
        "x2": [i % 3 for i in range(rows)],
        "label": ["yes" if i % 2 else "no" for i in range(rows)],
    })


def test_csv_uses_the_named_target_and_keeps_string_labels(tmp_path):
    path = write_csv(tmp_path, toy_frame()[["label", "x1", "x2"]])
    data = load_dataset(DatasetParams(path=str(path), target="label"))
    assert list(data.features.columns) == ["x1", "x2"]
    assert data.class_names == ("no", "yes")
    assert data.name == "data" and data.source == str(path.resolve())


def test_csv_target_defaults_to_last_column(tmp_path):
    data = load_dataset(DatasetParams(path=str(write_csv(tmp_path, toy_frame()))))
    assert data.target_name == "label"


@pytest.mark.parametrize(
    ("frame", "target", "fragment"),
    [
        (toy_frame(), "species", "no column 'species'"),
        (toy_frame().assign(city="Oslo"), "label", "not numeric in data.csv: city"),
        (toy_frame().assign(x1=[None] + [1.0] * 19), "label", "missing values"),
        (toy_frame().assign(label="same"), "label", "fewer than two classes"),
        (toy_frame().assign(label=[i / 7 for i in range(20)]), "label", "continuous"),
    ],
)
def test_bad_csv_is_one_input_error_line(tmp_path, frame, target, fragment):
    path = write_csv(tmp_path, frame)
    with pytest.raises(InputError) as caught:
        load_dataset(DatasetParams(path=str(path), target=target))
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_csv_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_dataset(DatasetParams(path=str(tmp_path / "absent.csv")))


def test_empty_csv_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="cannot read"):
        load_dataset(DatasetParams(path=str(tmp_path / "empty.csv")))


def test_split_is_stratified_and_seeded():
    data = load_dataset(DatasetParams(name="iris"))
    first = split(data.features, data.target, 0.2, seed=3)
    again = split(data.features, data.target, 0.2, seed=3)
    other = split(data.features, data.target, 0.2, seed=4)
    assert len(first.y_test) == 30
    assert first.y_test.value_counts().to_dict() == {0: 10, 1: 10, 2: 10}
    assert first.X_test.index.equals(again.X_test.index)
    assert not first.X_test.index.equals(other.X_test.index)


def test_header_only_csv_says_no_rows(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b,label\n")
    with pytest.raises(InputError, match="has a header but no rows"):
        load_dataset(DatasetParams(path=str(path)))


@pytest.mark.parametrize(
    ("labels", "message"),
    [([0, 1, 0], "3 rows are too few to split with test_size=0.2: every class needs rows on both "
                 "sides, so at least 6 rows and 2 per class (class '1' has 1)"),
     ([0, 0, 0, 0, 0, 1], "6 rows are too few to split with test_size=0.2: every class needs rows "
                          "on both sides, so at least 6 rows and 2 per class (class '1' has 1)")],
)
def test_data_too_small_for_the_split_is_refused_saying_how_many_rows(labels, message):
    y = pd.Series(labels)
    with pytest.raises(InputError) as info:
        split(pd.DataFrame({"x": range(len(y))}), y, 0.2, 0)
    assert str(info.value) == message


def test_the_smallest_splittable_table_puts_every_class_on_both_sides():
    y = pd.Series([0, 1] * 3)
    parts = split(pd.DataFrame({"x": range(6)}), y, 0.2, 0)
    assert set(parts.y_train) == set(parts.y_test) == {0, 1}
