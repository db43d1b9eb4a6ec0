"""The one place that writes to MLflow: runs, params, batched metrics, artifacts, models, inputs.

Imported only when a run needs it, so listing commands never pay for ``import mlflow``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from runner.context import ArtifactRecord, DatasetRecord, ModelRecord, PromptRef

if TYPE_CHECKING:
    from runner.context import RunContext

#: MLflow's per-call limits for ``log_batch``.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
#: MLflow rejects longer param values; such values are logged as a pointer to ``config.json``.
MAX_PARAM_LENGTH = 6000
CONFIG_ARTIFACT = "config.json"


#: MLflow loggers whose INFO lines (database creation, new experiment) are noise on a CLI.
QUIET_LOGGERS = ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent")


def configure(tracking_uri: str) -> None:
    """Point the fluent API and the prompt registry at ``tracking_uri``."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)


def param_value(key: str, value: Any) -> str:
    """MLflow's string for a param; too-long values become a pointer into ``config.json``."""
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > MAX_PARAM_LENGTH:
        return f"<{len(text)} chars: see {CONFIG_ARTIFACT} params.{key}>"
    return text


class Tracker:
    """Writes one run's results to MLflow in as few calls as possible."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.client = MlflowClient()
        self._logged_params: set[str] = set()

    @classmethod
    def start(cls, ctx: RunContext) -> Tracker:
        """Create the MLflow run for ``ctx`` and make it the active run."""
        configure(ctx.tracking_uri)
        mlflow.set_experiment(ctx.experiment_name)
        run = mlflow.start_run(run_name=ctx.run_name)
        tracker = cls(run.info.run_id)
        ctx.run_id = tracker.run_id
        ctx.tracker = tracker
        mlflow.log_dict(ctx.config, CONFIG_ARTIFACT)
        return tracker

    # --- writing what is pending ---------------------------------------------------------------

    def flush(self, ctx: RunContext) -> None:
        """Write everything recorded on ``ctx`` since the last flush."""
        pending = ctx.pending
        params = {k: v for k, v in pending.params.items() if k not in self._logged_params}
        self._log_batches(params, pending.tags, pending.metrics)
        self._logged_params.update(params)
        pending.params.clear()
        pending.tags.clear()
        pending.metrics.clear()
        while pending.prompts:
            self._link_prompt(pending.prompts.pop(0))
        while pending.datasets:
            self._log_dataset(pending.datasets.pop(0))
        while pending.artifacts:
            self._log_artifact(pending.artifacts.pop(0), ctx.workdir)
        while pending.models:
            self._log_model(pending.models.pop(0))

    def _log_batches(
        self, params: dict[str, Any], tags: dict[str, str], metrics: list[Any]
    ) -> None:
        param_list = [Param(k, param_value(k, v)) for k, v in params.items()]
        tag_list = [RunTag(k, v) for k, v in tags.items()]
        metric_list = [Metric(p.key, p.value, p.timestamp_ms, p.step or 0) for p in metrics]
        while param_list or tag_list or metric_list:
            self.client.log_batch(
                self.run_id,
                metrics=metric_list[:MAX_METRICS_PER_BATCH],
                params=param_list[:MAX_PARAMS_PER_BATCH],
                tags=tag_list[:MAX_TAGS_PER_BATCH],
                synchronous=True,
            )
            del metric_list[:MAX_METRICS_PER_BATCH]
            del param_list[:MAX_PARAMS_PER_BATCH]
            del tag_list[:MAX_TAGS_PER_BATCH]

    def _link_prompt(self, prompt: PromptRef) -> None:
        version = self.client.get_prompt_version(prompt.name, prompt.version)
        self.client.link_prompt_version_to_run(self.run_id, version)

    def _log_dataset(self, record: DatasetRecord) -> None:
        dataset = mlflow.data.from_pandas(
            record.frame, source=record.source, name=record.name, targets=record.targets
        )
        mlflow.log_input(dataset, context=record.context)
        self.client.set_tag(self.run_id, f"runner.data_digest.{record.name}", dataset.digest)

    def _log_artifact(self, record: ArtifactRecord, workdir: Path) -> None:
        if record.content is not None:
            if isinstance(record.content, bytes):
                staged = workdir / "_staged" / record.artifact_file
                staged.parent.mkdir(parents=True, exist_ok=True)
                staged.write_bytes(record.content)
                self._log_file(staged, record.artifact_file)
            else:
                mlflow.log_text(record.content, record.artifact_file)
        elif record.figure is not None:
            mlflow.log_figure(record.figure, record.artifact_file)
            import matplotlib.pyplot as plt

            plt.close(record.figure)
        elif record.table is not None:
            mlflow.log_table(record.table, record.artifact_file)
        elif record.path is not None:
            if record.path.is_dir():
                mlflow.log_artifacts(str(record.path), record.artifact_file)
            else:
                self._log_file(record.path, record.artifact_file)

    def _log_file(self, path: Path, artifact_file: str) -> None:
        target = Path(artifact_file)
        if target.name != path.name:
            staged = Path(tempfile.mkdtemp()) / target.name
            shutil.copyfile(path, staged)
            path = staged
        parent = str(target.parent) if str(target.parent) != "." else None
        mlflow.log_artifact(str(path), parent)

    def _log_model(self, record: ModelRecord) -> None:
        from mlflow.models import infer_signature

        flavor = getattr(mlflow, record.flavor)
        signature = None
        if record.input_example is not None:
            signature = infer_signature(record.input_example, record.output_example)
        info = flavor.log_model(
            record.model,
            name=record.name,
            signature=signature,
            input_example=record.input_example,
            pip_requirements=list(record.pip_requirements) or None,
        )
        self.client.set_tag(self.run_id, f"runner.model_uri.{record.name}", info.model_uri)

    # --- live services -------------------------------------------------------------------------

    @contextlib.contextmanager
    def span(self, name: str, span_type: str, inputs: Any) -> Iterator[Any]:
        """An MLflow trace span, linked to the active run."""
        with mlflow.start_span(name=name, span_type=span_type) as span:
            if inputs is not None:
                span.set_inputs(inputs)
            yield span

    # --- the end -------------------------------------------------------------------------------

    def finish(self, ctx: RunContext, error: BaseException | None) -> str:
        """Write what is left, save the traceback as ``error.txt`` and end the run; return status."""
        status = "FINISHED"
        if isinstance(error, KeyboardInterrupt):
            status = "KILLED"
        elif error is not None:
            status = "FAILED"
        try:
            self.flush(ctx)
        finally:
            if error is not None:
                text = "".join(traceback.format_exception(error))
                mlflow.log_text(text, "error.txt")
            mlflow.end_run(status)
        return status


def register_prompt(tracking_uri: str, name: str, template: str) -> PromptRef:
    """Register ``template`` under ``name`` unless a version with the same text exists."""
    configure(tracking_uri)
    client = MlflowClient()
    with contextlib.suppress(mlflow.exceptions.MlflowException):
        for version in client.search_prompt_versions(name, max_results=1000):
            if version.template == template:
                return PromptRef(name, int(version.version), version.uri, template)
    version = mlflow.genai.register_prompt(name, template, commit_message="registered by runner")
    return PromptRef(name, int(version.version), version.uri, template)
