"""The params schema: one model per classifier, foreign hyperparameters rejected, UI names kept."""

from __future__ import annotations

import pytest

from runner import InputError
from runner.overrides import flatten
from runner.runs import validate_params
from runner_sklearn.params import (
    DatasetParams,
    GradientBoostingParams,
    LogisticRegressionParams,
    RandomForestParams,
    SVCParams,
)
from runner_sklearn.plugin import EXPERIMENT_TYPE


def validate(params: dict) -> object:
    return validate_params(EXPERIMENT_TYPE, params, "sklearn")


def test_defaults_are_logistic_regression_on_wine():
    params = validate({})
    assert isinstance(params, LogisticRegressionParams)
    assert params.dataset.name == "wine"
    assert (params.C, params.max_iter) == (1.0, 100)


@pytest.mark.parametrize(
    ("model", "cls"),
    [("logistic_regression", LogisticRegressionParams), ("random_forest", RandomForestParams),
     ("gradient_boosting", GradientBoostingParams), ("svc", SVCParams)],
)
def test_model_selects_its_params_class(model, cls):
    assert isinstance(validate({"model": model}), cls)


def test_ui_names_are_top_level_mlflow_params():
    dumped = flatten(EXPERIMENT_TYPE.adapter().dump_python(validate({"C": 0.3}), mode="json"))
    assert dumped["C"] == 0.3 and dumped["max_iter"] == 100
    assert dumped["dataset.name"] == "wine"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"n_estimators": 10}, "logistic_regression.n_estimators: unknown key"),
        ({"model": "random_forest", "C": 1.0}, "random_forest.C: unknown key"),
        ({"model": "svc", "penalty": "l1"}, "svc.penalty: unknown key"),
        ({"model": "xgboost"}, "model must be one of"),
        ({"dataset": {"name": "mnist"}}, "dataset.name"),
        ({"penalty": "l1"}, "penalty=l1 needs solver"),
        ({"cv_folds": 1}, "cv_folds"),
        ({"C": 0}, "C"),
        ({"dataset": {"target": "label"}}, "for CSV files"),
        ({"dataset": {"name": "csv"}}, "needs dataset.path"),
    ],
)
def test_invalid_params_are_one_line(params, fragment):
    with pytest.raises(InputError) as caught:
        validate(params)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_a_csv_path_alone_selects_csv():
    assert DatasetParams(path="data.csv").name == "csv"
    assert DatasetParams.model_validate({"path": "d.csv", "target": "y"}).target == "y"


def test_dumped_params_validate_again():
    """config.json holds the dump; re-running from it must give the same params."""
    params = validate({"model": "svc", "gamma": 0.1, "dataset": {"name": "iris"}})
    dumped = EXPERIMENT_TYPE.adapter().dump_python(params, mode="json")
    assert validate(dumped) == params
