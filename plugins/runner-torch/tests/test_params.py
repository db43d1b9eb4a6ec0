"""torch-mlp params: runner-sklearn's dataset model reused, CLI-friendly hidden_units, no strays."""

from __future__ import annotations

import pytest

from runner import InputError
from runner.overrides import parse_override
from runner.runs import validate_params
from runner_sklearn.params import DatasetParams, TabularParams
from runner_torch.params import TorchMLPParams
from runner_torch.plugin import EXPERIMENT_TYPE


def validate(params: dict) -> TorchMLPParams:
    return validate_params(EXPERIMENT_TYPE, params, "torch-mlp")  # type: ignore[return-value]


def test_dataset_params_are_runner_sklearns():
    assert issubclass(TorchMLPParams, TabularParams)
    assert TorchMLPParams.model_fields["dataset"].annotation is DatasetParams


def test_defaults_match_nn_baseline():
    params = validate({})
    assert params.hidden_units == [32]
    assert (params.optimizer, params.lr, params.epochs) == ("adam", 0.01, 30)
    assert params.dataset.name == "wine"


@pytest.mark.parametrize("text", ["hidden_units=[64, 32]", "hidden_units=64,32", "hidden_units=64"])
def test_hidden_units_as_typed_on_the_command_line(text):
    key, value = parse_override(text)
    expected = [64, 32] if "32" in text else [64]
    assert validate({key: value}).hidden_units == expected


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
