"""The MLP and its training loop on a small real dataset (fast: a few epochs on wine)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from runner_sklearn.data import load_dataset, split
from runner_sklearn.params import DatasetParams
from runner_torch.net import MLP, Probabilities
from runner_torch.params import TorchMLPParams
from runner_torch.training import History, build_model, deterministic, predict_proba, train


def wine_rows(seed: int = 0):
    data = load_dataset(DatasetParams(name="wine"))
    parts = split(data.features, data.target, 0.25, seed)
    return (
        (parts.X_train.to_numpy(np.float32).copy(), parts.y_train.to_numpy(np.int64).copy()),
        (parts.X_test.to_numpy(np.float32).copy(), parts.y_test.to_numpy(np.int64).copy()),
    )


def fit(params: TorchMLPParams, epochs: int | None = None):
    train_rows, val_rows = wine_rows()
    seen = []
    with deterministic(params.seed):
        model = build_model(params, train_rows[0], 3)
        history = train(model, params, train_rows, val_rows,
                        range(1, (epochs or params.epochs) + 1), seen.append)
    return model, history, seen, val_rows


def test_the_module_standardizes_raw_features_itself():
    X = np.array([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]], dtype=np.float32)
    mlp = MLP(X.mean(axis=0), X.std(axis=0), 2, [4])
    first = mlp.layers[0]
    standardized = (torch.as_tensor(X) - mlp.mean) / mlp.std
    assert torch.allclose(standardized.mean(dim=0), torch.zeros(3), atol=1e-6)
    assert torch.isfinite(standardized).all()  # the constant column divides by 1, not 0
    assert torch.allclose(mlp(torch.as_tensor(X)), mlp.layers(standardized))
    assert first.in_features == 3
    proba = Probabilities(mlp)(torch.as_tensor(X))
    assert torch.allclose(proba.sum(dim=1), torch.ones(2))


def test_layers_follow_hidden_units_activation_and_dropout():
    params = TorchMLPParams(hidden_units=[16, 8], activation="tanh", dropout=0.1)
    model = build_model(params, np.zeros((4, 5), dtype=np.float32), 3)
    linear = [m for m in model.layers if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(5, 16), (16, 8), (8, 3)]
    assert sum(isinstance(m, torch.nn.Tanh) for m in model.layers) == 2
    assert sum(isinstance(m, torch.nn.Dropout) for m in model.layers) == 2


def test_same_seed_same_curves_other_seed_other_curves():
    params = TorchMLPParams(epochs=5, dropout=0.2)
    _, first, _, _ = fit(params)
    _, again, _, _ = fit(params)
    _, other, _, _ = fit(params.model_copy(update={"seed": 7}))
    assert first.epochs == again.epochs
    assert first.epochs != other.epochs


def test_learning_happens_and_every_epoch_is_reported():
    model, history, seen, (X_val, y_val) = fit(TorchMLPParams(epochs=15))
    assert seen == history.epochs and [e.epoch for e in seen] == list(range(1, 16))
    assert history.epochs[-1].loss < history.epochs[0].loss
    accuracy = (predict_proba(model, X_val).argmax(axis=1) == y_val).mean()
    assert accuracy == history.epochs[-1].val_accuracy  # final weights, measured the same way


def test_early_stopping_stops_and_keeps_the_best_weights():
    params = TorchMLPParams(epochs=300, lr=0.05, early_stopping_patience=3)
    model, history, _, (X_val, y_val) = fit(params)
    assert len(history.epochs) < params.epochs
    assert len(history.epochs) - history.best_epoch == params.early_stopping_patience
    logits = model(torch.as_tensor(X_val))
    restored_loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y_val)).item()
    assert restored_loss == history.best_val_loss


def test_deterministic_restores_the_global_settings():
    before = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    with deterministic(1):
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.get_num_threads() == 1
    assert (torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()) == before


def test_an_interrupted_training_keeps_the_finished_epochs_in_the_given_history():
    """What a run scores on partial results: the caller's history holds every finished epoch."""
    params = TorchMLPParams(epochs=10)
    train_rows, val_rows = wine_rows()
    history = History()

    def stop_after_two(result):
        if result.epoch == 2:
            raise KeyboardInterrupt

    with deterministic(params.seed), pytest.raises(KeyboardInterrupt):
        model = build_model(params, train_rows[0], 3)
        train(model, params, train_rows, val_rows, range(1, 11), stop_after_two, history)
    assert [e.epoch for e in history.epochs] == [1, 2]
    _, uninterrupted, _, _ = fit(params, epochs=2)
    assert history.epochs == uninterrupted.epochs
