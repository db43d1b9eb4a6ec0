"""The MLP module: standardizes raw features itself, so the logged model takes raw rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
}


class MLP(nn.Module):
    """Standardize with the training split's mean/std (buffers), then hidden layers, then logits."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        mean: np.ndarray,
        std: np.ndarray,
        n_classes: int,
        hidden_units: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        # A constant column has std 0: dividing by 1 leaves it centred instead of NaN.
        safe_std = np.where(np.asarray(std) > 0, std, 1.0)
        self.register_buffer("std", torch.as_tensor(safe_std, dtype=torch.float32))
        layers: list[nn.Module] = []
        width = len(mean)
        for units in hidden_units:
            layers += [nn.Linear(width, units), ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits for raw feature rows."""
        return self.layers((x - self.mean) / self.std)


class Probabilities(nn.Module):
    """The model as logged: class probabilities (softmax of the MLP's logits)."""

    def __init__(self, mlp: MLP) -> None:
        super().__init__()
        self.mlp = mlp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities, one column per class in sorted label order."""
        return torch.softmax(self.mlp(x), dim=-1)
