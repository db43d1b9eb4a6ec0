"""The params schema: one model per classifier, foreign hyperparameters rejected, UI names kept,
numbers and booleans strict."""

from __future__ import annotations

import pytest

from runner import InputError
from runner.config import validate_params
from runner.overrides import flatten, parse_override
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


@pytest.mark.parametrize(
    ("typed", "field", "fragment"),
    [
        ("max_iter=true", "max_iter", "valid integer (got True)"),
        ("max_iter=2.5", "max_iter", "valid integer (got 2.5)"),
        ("cv_folds=false", "cv_folds", "valid integer (got False)"),
        ("seed=true", "seed", "valid integer (got True)"),
        ("C=true", "C", "valid number (got True)"),
        ("test_size=yes", "test_size", "valid number (got True)"),
        ("scale=1", "scale", "valid boolean (got 1)"),
        ("C=high", "C", "valid number (got 'high')"),
    ],
)
def test_booleans_are_not_numbers_nor_numbers_booleans(typed, field, fragment):
    """``--set max_iter=true`` was accepted as 1 (issue 10): each is now one error line."""
    key, value = parse_override(typed)
    with pytest.raises(InputError) as caught:
        validate({key: value})
    assert f"logistic_regression.{field}: Input should be a {fragment}" in str(caught.value)


@pytest.mark.parametrize(
    ("model", "typed", "field"),
    [
        ("random_forest", "n_estimators=true", "n_estimators"),
        ("random_forest", "max_depth=true", "max_depth"),
        ("gradient_boosting", "learning_rate=false", "learning_rate"),
        ("svc", "probability=0", "probability"),
        ("svc", "gamma=true", "gamma"),
    ],
)
def test_every_classifier_is_strict(model, typed, field):
    key, value = parse_override(typed)
    with pytest.raises(InputError, match=f"{model}.{field}"):
        validate({"model": model, key: value})


@pytest.mark.parametrize(
    ("typed", "field", "expected"),
    [
        ("C=0.3", "C", 0.3),
        ("C=1", "C", 1.0),  # an int is a fine float
        ("C=1e-3", "C", 0.001),  # YAML 1.1 reads this as text
        ("max_iter=1000", "max_iter", 1000),
        ("scale=false", "scale", False),
        ("test_size=0.25", "test_size", 0.25),
    ],
)
def test_values_typed_on_the_command_line_still_work(typed, field, expected):
    key, value = parse_override(typed)
    params = validate({key: value})
    assert getattr(params, field) == expected
    assert type(getattr(params, field)) is type(expected)


@pytest.mark.parametrize(("typed", "expected"), [("gamma=0.1", 0.1), ("gamma=2", 2.0),
                                                 ("gamma=1e-3", 0.001), ("gamma=auto", "auto")])
def test_svc_gamma_as_typed(typed, expected):
    key, value = parse_override(typed)
    assert validate({"model": "svc", key: value}).gamma == expected


@pytest.mark.parametrize(
    ("params", "inactive"),
    [({}, {"dataset.path", "dataset.target", "l1_ratio"}),
     ({"penalty": "elasticnet", "solver": "saga"}, {"dataset.path", "dataset.target"}),
     ({"model": "svc", "kernel": "linear"}, {"dataset.path", "dataset.target", "degree", "gamma"}),
     ({"model": "svc", "kernel": "poly"}, {"dataset.path", "dataset.target"}),
     ({"dataset": {"path": "x.csv"}}, {"l1_ratio"})],
)
def test_params_that_take_no_effect_are_named(params, inactive):
    from runner.config import validate_params
    from runner_sklearn.plugin import EXPERIMENT_TYPE

    assert validate_params(EXPERIMENT_TYPE, params, "sklearn").inactive_params() == inactive
