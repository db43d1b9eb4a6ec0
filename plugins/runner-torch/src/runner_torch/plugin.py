"""Entry point of runner-torch: declares the ``torch-mlp`` experiment type (pydantic only)."""

from __future__ import annotations

from collections.abc import Callable

from runner import NON_NEGATIVE, UNIT_INTERVAL, ExperimentType, MetricSpec, hookimpl
from runner_sklearn.metric_specs import CLASSIFICATION_METRICS
from runner_torch.params import TorchMLPParams

EXPERIMENT_TYPE = ExperimentType(
    id="torch-mlp",
    params=TorchMLPParams,
    implementation="runner_torch.experiment:TorchMLPExperiment",
    experiment_name="nn-experiments",
    description="PyTorch MLP classifier on a bundled dataset or a CSV file, with per-epoch curves",
    metrics=(
        # The test-split metrics, the same specs (and names) as runner-sklearn's.
        *CLASSIFICATION_METRICS,
        # Cross-entropy is never negative; val_accuracy is a share of the validation rows.
        MetricSpec("loss", "minimize", "Mean training cross-entropy per epoch.", per_step=True,
                   bounds=NON_NEGATIVE),
        MetricSpec("val_loss", "minimize", "Validation loss per epoch.", per_step=True,
                   bounds=NON_NEGATIVE),
        MetricSpec("val_accuracy", "maximize", "Validation accuracy per epoch.", per_step=True,
                   bounds=UNIT_INTERVAL),
        MetricSpec("train_time_sec", "minimize", "Seconds spent training (all epochs).",
                   deterministic=False),
        MetricSpec("epochs_run", "minimize", "Epochs trained (fewer if stopped early).",
                   bounds=NON_NEGATIVE),
        MetricSpec("best_epoch", "minimize", "Epoch with the lowest validation loss.",
                   bounds=NON_NEGATIVE),
        MetricSpec("best_val_loss", "minimize", "Lowest validation loss over the epochs.",
                   bounds=NON_NEGATIVE),
    ),
)


@hookimpl
def runner_register_experiment_types(register: Callable[[ExperimentType], None]) -> None:
    """Offer the ``torch-mlp`` experiment type."""
    register(EXPERIMENT_TYPE)
