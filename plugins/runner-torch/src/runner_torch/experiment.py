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
    """Lifecycle hooks of one ``torch-mlp`` run; objects pass between phases in ``ctx.state``."""

    @hookimpl
    def runner_prepare(self, ctx: RunContext) -> None:
        """Load the dataset and split it into train, validation and test rows."""
        params: TorchMLPParams = ctx.params  # type: ignore[assignment]
        data = load_dataset(params.dataset)
        # Class indices, so CrossEntropyLoss and the probability columns follow sorted labels.
        labels = data.target.map({label: i for i, label in enumerate(data.classes)})
        test = split(data.features, labels, params.test_size, params.seed)
        val = split(test.X_train, test.y_train, params.val_size, params.seed)
        if len(val.y_train) < 2:
            raise InputError(f"only {len(val.y_train)} training rows left after the splits")
        ctx.state["data"] = data
        ctx.state["arrays"] = Arrays(
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
    def runner_execute(self, ctx: RunContext) -> None:
        """Train, logging ``loss``, ``val_loss`` and ``val_accuracy`` with step = epoch."""
        params: TorchMLPParams = ctx.params  # type: ignore[assignment]
        data: TabularData = ctx.state["data"]
        arrays: Arrays = ctx.state["arrays"]

        def record(result: EpochResult) -> None:
            ctx.log_metrics(
                {"loss": result.loss, "val_loss": result.val_loss,
                 "val_accuracy": result.val_accuracy},
                step=result.epoch,
            )

        with deterministic(params.seed):
            model = build_model(params, arrays.X_train, len(data.classes))
            started = time.perf_counter()
            history = train(
                model,
                params,
                (arrays.X_train, arrays.y_train),
                (arrays.X_val, arrays.y_val),
                ctx.progress(range(1, params.epochs + 1), "training", total=params.epochs),
                record,
            )
            ctx.log_metric("train_time_sec", time.perf_counter() - started)
        ctx.log_metrics(
            {"epochs_run": len(history.epochs), "best_val_loss": history.best_val_loss,
             "best_epoch": history.best_epoch}
        )
        ctx.state["model"] = model
        ctx.state["history"] = history

    @hookimpl
    def runner_evaluate(self, ctx: RunContext) -> None:
        """Score the trained model on the test split with runner-sklearn's metrics."""
        data: TabularData = ctx.state["data"]
        arrays: Arrays = ctx.state["arrays"]
        proba = predict_proba(ctx.state["model"], arrays.X_test)
        predictions = proba.argmax(axis=1)
        ctx.state["proba"] = proba
        ctx.state["predictions"] = predictions
        ctx.log_metrics(
            classification_metrics(arrays.y_test, predictions, proba, np.arange(len(data.classes)))
        )

    @hookimpl
    def runner_log(self, ctx: RunContext) -> None:
        """Hand over the model (raw features in, probabilities out), curves and reports."""
        data: TabularData = ctx.state["data"]
        arrays: Arrays = ctx.state["arrays"]
        model: MLP = ctx.state["model"]
        history: History = ctx.state["history"]
        predictions: np.ndarray = ctx.state["predictions"]
        indices = np.arange(len(data.classes))
        ctx.log_model(
            Probabilities(model).eval(),
            flavor="pytorch",
            name="model",
            input_example=arrays.X_test[:EXAMPLE_ROWS],
            output_example=ctx.state["proba"][:EXAMPLE_ROWS].astype(np.float32),
            pip_requirements=[f"torch=={torch.__version__}"],
        )
        ctx.log_figure(loss_curve_figure(history), "loss_curve.png")
        ctx.log_figure(
            confusion_matrix_figure(arrays.y_test, predictions, indices, data.class_names),
            "confusion_matrix.png",
        )
        ctx.log_text(
            classification_report_text(arrays.y_test, predictions, indices, data.class_names),
            "classification_report.txt",
        )
        ctx.log_text(json.dumps(list(data.class_names), indent=2), "classes.json")
