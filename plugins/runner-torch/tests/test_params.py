"""torch-mlp params: runner-sklearn's dataset model reused, CLI-friendly hidden_units, no strays,
strict numbers."""

from __future__ import annotations

import pytest

from runner import InputError
from runner.config import validate_params
from runner.overrides import parse_override
from runner_sklearn.params import DatasetParams, TabularParams
from runner_torch.params import TorchMLPParams
from runner_torch.plugin import EXPERIMENT_TYPE


def validate(params: dict) -> TorchMLPParams:
    validated = validate_params(EXPERIMENT_TYPE, params, "torch-mlp")
    assert isinstance(validated, TorchMLPParams)
    return validated


def test_dataset_params_are_runner_sklearns():
    assert issubclass(TorchMLPParams, TabularParams)
    assert TorchMLPParams.model_fields["dataset"].annotation is DatasetParams


def test_defaults_match_nn_baseline():
    params = validate({})
    assert params.hidden_units == [32]
    assert (params.optimizer, params.lr, params.epochs) == ("adam", 0.01, 30)
    assert params.dataset.name == "wine"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("hidden_units=[64, 32]", [64, 32]), ("hidden_units=[64,32]", [64, 32]),
     ("hidden_units=64,32", [64, 32]), ("hidden_units=64", [64]), ("hidden_units=[8]", [8])],
)
def test_hidden_units_as_typed_on_the_command_line(text, expected):
    key, value = parse_override(text)
    assert validate({key: value}).hidden_units == expected


@pytest.mark.parametrize(
    ("typed", "field", "expected"),
    [("lr=0.05", "lr", 0.05), ("lr=1e-3", "lr", 0.001), ("weight_decay=0", "weight_decay", 0.0),
     ("epochs=200", "epochs", 200), ("batch_size=64", "batch_size", 64)],
)
def test_numbers_as_typed_on_the_command_line(typed, field, expected):
    key, value = parse_override(typed)
    params = validate({key: value})
    assert getattr(params, field) == expected
    assert type(getattr(params, field)) is type(expected)


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("epochs=true", "epochs: Input should be a valid integer (got True)"),
        ("epochs=2.5", "epochs: Input should be a valid integer (got 2.5)"),
        ("batch_size=false", "batch_size: Input should be a valid integer (got False)"),
        ("lr=true", "lr: Input should be a valid number (got True)"),
        ("dropout=no", "dropout: Input should be a valid number (got False)"),
        ("seed=true", "seed: Input should be a valid integer (got True)"),
        ("hidden_units=true", "hidden_units.0: Input should be a valid integer (got True)"),
        ("hidden_units=[64,true]", "hidden_units.1: Input should be a valid integer (got True)"),
        ("hidden_units=64,x", "hidden_units.1: Input should be a valid integer (got 'x')"),
    ],
)
def test_booleans_are_not_numbers(typed, fragment):
    """``--set epochs=true`` must not train one epoch (issue 10)."""
    key, value = parse_override(typed)
    with pytest.raises(InputError) as caught:
        validate({key: value})
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"hidden_units": [32, 0]}, "at least 1 unit"),
        ({"hidden_units": []}, "hidden_units"),
        ({"C": 1.0}, "C: unknown key"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"dropout": 1.0}, "dropout"),
        ({"dataset": {"name": "mnist"}}, "dataset.name"),
    ],
)
def test_invalid_params_are_one_line(params, fragment):
    with pytest.raises(InputError) as caught:
        validate(params)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_momentum_is_inactive_unless_sgd():
    from runner.config import validate_params
    from runner_torch.plugin import EXPERIMENT_TYPE

    assert "momentum" in validate_params(EXPERIMENT_TYPE, {}, "t").inactive_params()
    assert "momentum" not in validate_params(EXPERIMENT_TYPE, {"optimizer": "sgd"}, "t").inactive_params()
