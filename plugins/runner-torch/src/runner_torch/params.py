"""Params of the ``torch-mlp`` experiment type.

The dataset, test split and seed are runner-sklearn's :class:`~runner_sklearn.params.TabularParams`,
so both plugins accept exactly the same datasets under the same names. Numbers are strict like
runner-sklearn's (:data:`~runner_sklearn.params.Number`, ``StrictInt``): ``epochs=true``
is an error, not 1.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictInt, field_validator

from runner_sklearn.params import Number, TabularParams


class TorchMLPParams(TabularParams):
    """A multilayer perceptron trained with mini-batches, validated after every epoch."""

    hidden_units: list[StrictInt] = Field(
        default_factory=lambda: [32],
        min_length=1,
        description="Units of each hidden layer, e.g. [64, 32] (or 64,32) for two layers.",
    )
    activation: Literal["relu", "tanh", "gelu", "sigmoid", "leaky_relu"] = Field(
        "relu", description="Activation after each hidden layer."
    )
    dropout: Number = Field(0.0, ge=0, lt=1, description="Dropout after each hidden layer.")
    lr: Number = Field(0.01, gt=0, description="Learning rate.")
    optimizer: Literal["adam", "adamw", "sgd"] = Field("adam", description="Optimizer.")
    momentum: Number = Field(0.9, ge=0, lt=1, description="Momentum (optimizer=sgd only).")
    weight_decay: Number = Field(0.0, ge=0, description="L2 weight decay.")
    epochs: StrictInt = Field(30, ge=1, description="Maximum passes over the training rows.")
    batch_size: StrictInt = Field(32, ge=1, description="Rows per optimizer step.")
    early_stopping_patience: StrictInt = Field(
        0,
        ge=0,
        description="Stop after this many epochs without a lower val_loss and keep the best "
        "weights; 0 trains all epochs.",
    )
    val_size: Number = Field(
        0.2, gt=0, lt=1, description="Fraction of the training rows held out for validation."
    )

    @field_validator("hidden_units", mode="before")
    @classmethod
    def _units_from_text(cls, value: Any) -> Any:
        """Accept ``64,32`` and ``64`` as typed on a command line (``true`` stays an error)."""
        if isinstance(value, int):
            return [value]
        if isinstance(value, str):
            text = value.strip().strip("[]")
            return [_int_text(part.strip()) for part in text.split(",") if part.strip()]
        return value

    @field_validator("hidden_units")
    @classmethod
    def _units_positive(cls, value: list[int]) -> list[int]:
        if any(units < 1 for units in value):
            raise ValueError("every hidden layer needs at least 1 unit")
        return value

    def inactive_params(self) -> set[str]:
        """``momentum`` is for SGD only; the dataset's CSV fields for CSV data only."""
        return super().inactive_params() | (set() if self.optimizer == "sgd" else {"momentum"})


def _int_text(text: str) -> int | str:
    """``"64"`` -> 64; anything else stays text for the strict int check to reject."""
    return int(text) if text.lstrip("+-").isdigit() else text
