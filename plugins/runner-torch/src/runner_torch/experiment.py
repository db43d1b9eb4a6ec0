"""The ``torch-mlp`` experiment: runner-sklearn's data, an MLP trained per epoch, same metrics."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

# Idle OpenMP workers sleep instead of spinning (spinning slowed torch 4-6x on a shared 2-core
# CPU); libgomp reads this once, when torch loads, so it must be set before the import below.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from runner import InputError, RunContext, hookimpl  # noqa: E402
from runner_sklearn.data import TabularData, load_dataset, split  # noqa: E402
from runner_sklearn.metrics import classification_metrics  # noqa: E402
from runner_sklearn.reports import (  # noqa: E402
    classification_report_text,
    confusion_matrix_figure,
)
from runner_torch.figures import loss_curve_figure  # noqa: E402
from runner_torch.net import MLP, Probabilities  # noqa: E402
from runner_torch.params import TorchMLPParams  # noqa: E402
from runner_torch.training import (  # noqa: E402
    EpochResult,
    History,
    build_model,
    deterministic,
    predict_proba,
    train,
)

#: Rows of the test split logged as the model's input example (> 1 keeps the batch size dynamic).
EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class Arrays:
    """Train/validation/test rows as float32 features and class indices (0..k-1)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


class TorchMLPExperiment:
    """Lifecycle hooks of one ``torch-mlp`` run (a fresh instance per run).

    What one phase hands the next lives on the instance. The history fills epoch by epoch, so
    when training fails or is interrupted (the core then calls ``runner_evaluate`` and
    ``runner_log`` with ``ctx.partial`` set) the model as training left it is scored and logged
    with the curves of the epochs that finished; before the first finished epoch there is
    nothing to score and both do nothing.
    """

    def __init__(self) -> None:
        self.data: TabularData | None = None
        self.arrays: Arrays | None = None
        self.model: MLP | None = None
        self.history: History = History()
        self.proba: np.ndarray | None = None
        self.predictions: np.ndarray | None = None

    @hookimpl
    def runner_prepare(self, ctx: RunContext[TorchMLPParams]) -> None:
        """Load the dataset and split it into train, validation and test rows."""
        params = ctx.params
        data = load_dataset(params.dataset)
        # Class indices, so CrossEntropyLoss and the probability columns follow sorted labels.
        labels = data.target.map({label: i for i, label in enumerate(data.classes)})
        test = split(data.features, labels, params.test_size, params.seed)
        val = split(test.X_train, test.y_train, params.val_size, params.seed)
        if len(val.y_train) < 2:
            raise InputError(f"only {len(val.y_train)} training rows left after the splits")
        self.data = data
        self.arrays = Arrays(
            *(
                np.array(a.to_numpy(), dtype=dtype)  # a writable copy for torch
                for a, dtype in (
                    (val.X_train, np.float32), (val.y_train, np.int64),
                    (val.X_test, np.float32), (val.y_test, np.int64),
                    (test.X_test, np.float32), (test.y_test, np.int64),
                )
            )
        )
        ctx.log_dataset(data.frame, name=data.name, source=data.source, targets=data.target_name)

    @hookimpl
    def runner_execute(self, ctx: RunContext[TorchMLPParams]) -> None:
        """Train, logging ``loss``, ``val_loss`` and ``val_accuracy`` with step = epoch."""
        params = ctx.params
        assert self.data is not None and self.arrays is not None  # set by runner_prepare
        arrays = self.arrays

        def record(result: EpochResult) -> None:
            ctx.log_metrics(
                {"loss": result.loss, "val_loss": result.val_loss,
                 "val_accuracy": result.val_accuracy},
                step=result.epoch,
            )

        with deterministic(params.seed):
            self.model = build_model(params, arrays.X_train, len(self.data.classes))
            started = time.perf_counter()
            train(
                self.model,
                params,
                (arrays.X_train, arrays.y_train),
                (arrays.X_val, arrays.y_val),
                ctx.progress(range(1, params.epochs + 1), "training", total=params.epochs),
                record,
                self.history,
            )
            ctx.log_metric("train_time_sec", time.perf_counter() - started)
        _log_summary(ctx, self.history)

    @hookimpl
    def runner_evaluate(self, ctx: RunContext[TorchMLPParams]) -> None:
        """Score the trained model on the test split with runner-sklearn's metrics."""
        if self.model is None or self.data is None or self.arrays is None:
            return
        if not self.history.epochs:
            return  # not one epoch finished: nothing worth scoring
        if "epochs_run" not in ctx.metrics:  # training stopped early by a failure
            _log_summary(ctx, self.history)
        arrays = self.arrays
        proba = predict_proba(self.model, arrays.X_test)
        predictions = proba.argmax(axis=1)
        self.proba, self.predictions = proba, predictions
        ctx.log_metrics(
            classification_metrics(
                arrays.y_test, predictions, proba, np.arange(len(self.data.classes))
            )
        )

    @hookimpl
    def runner_log(self, ctx: RunContext[TorchMLPParams]) -> None:
        """Hand over the model (raw features in, probabilities out), curves and reports."""
        if self.model is None or self.data is None or self.arrays is None:
            return
        if not self.history.epochs:
            return
        data, arrays, proba, predictions = self.data, self.arrays, self.proba, self.predictions
        indices = np.arange(len(data.classes))
        ctx.log_model(
            Probabilities(self.model).eval(),
            flavor="pytorch",
            name="model",
            input_example=arrays.X_test[:EXAMPLE_ROWS],
            output_example=None if proba is None else proba[:EXAMPLE_ROWS].astype(np.float32),
            pip_requirements=[f"torch=={torch.__version__}"],
        )
        ctx.log_figure(loss_curve_figure(self.history), "loss_curve.png")
        ctx.log_text(json.dumps(list(data.class_names), indent=2), "classes.json")
        if predictions is None:
            return  # scoring failed: no confusion matrix or report
        ctx.log_figure(
            confusion_matrix_figure(arrays.y_test, predictions, indices, data.class_names),
            "confusion_matrix.png",
        )
        ctx.log_text(
            classification_report_text(arrays.y_test, predictions, indices, data.class_names),
            "classification_report.txt",
        )


def _log_summary(ctx: RunContext[TorchMLPParams], history: History) -> None:
    """``epochs_run``, ``best_val_loss`` and ``best_epoch`` of the epochs that finished."""
    ctx.log_metrics(
        {"epochs_run": len(history.epochs), "best_val_loss": history.best_val_loss,
         "best_epoch": history.best_epoch}
    )
