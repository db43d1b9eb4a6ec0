"""Params of the ``torch-mlp`` experiment type.

The dataset, test split and seed are runner-sklearn's :class:`~runner_sklearn.params.TabularParams`,
so both plugins accept exactly the same datasets under the same names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from runner_sklearn.params import TabularParams


class TorchMLPParams(TabularParams):
    """A multilayer perceptron trained with mini-batches, validated after every epoch."""

    hidden_units: list[int] = Field(
        default_factory=lambda: [32],
        min_length=1,
        description="Units of each hidden layer, e.g. [64, 32] (or 64,32) for two layers.",
    )
    activation: Literal["relu", "tanh", "gelu", "sigmoid", "leaky_relu"] = Field(
        "relu", description="Activation after each hidden layer."
    )
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout after each hidden layer.")
    lr: float = Field(0.01, gt=0, description="Learning rate.")
    optimizer: Literal["adam", "adamw", "sgd"] = Field("adam", description="Optimizer.")
    momentum: float = Field(0.9, ge=0, lt=1, description="Momentum (optimizer=sgd only).")
    weight_decay: float = Field(0.0, ge=0, description="L2 weight decay.")
    epochs: int = Field(30, ge=1, description="Maximum passes over the training rows.")
    batch_size: int = Field(32, ge=1, description="Rows per optimizer step.")
    early_stopping_patience: int = Field(
        0,
        ge=0,
        description="Stop after this many epochs without a lower val_loss and keep the best "
        "weights; 0 trains all epochs.",
    )
    val_size: float = Field(
        0.2, gt=0, lt=1, description="Fraction of the training rows held out for validation."
    )

    @field_validator("hidden_units", mode="before")
    @classmethod
    def _units_from_text(cls, value: Any) -> Any:
        """Accept ``64,32`` and ``64`` as typed on a command line."""
        if isinstance(value, int):
            return [value]
        if isinstance(value, str):
            text = value.strip().strip("[]")
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("hidden_units")
    @classmethod
    def _units_positive(cls, value: list[int]) -> list[int]:
        if any(units < 1 for units in value):
            raise ValueError("every hidden layer needs at least 1 unit")
        return value
