"""runner's plugin contract, checked by the core's conformance kit (one class, every check)."""

from __future__ import annotations

from runner.testing import ExperimentTypeContract


class TestTorchMLPContract(ExperimentTypeContract):
    experiment_type = "torch-mlp"
    # A few epochs of a small network on wine: a second or two per run.
    params = {"epochs": 3, "hidden_units": [8]}
