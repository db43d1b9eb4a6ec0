"""Writes one run to MLflow: params, tags and metrics in batches, datasets, artifacts, models,
trace spans and prompts, redacted before they leave the process.

The store is opened, and every write retried, through :mod:`runner.store.mlflow_store`.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Before ``import mlflow``: mlflow_store sets the environment MLflow reads when it is imported.
from runner.store.mlflow_store import client, ensure_experiment, param_value, retry_locked

import mlflow
from mlflow import MlflowClient
from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from runner.errors import PluginError
from runner.recorder import ArtifactRecord, DatasetRecord, ModelRecord, PromptRef
from runner.secrets import redact, redact_value
from runner.store import names

if TYPE_CHECKING:
    from runner.context import RunContext

#: MLflow's per-call limits for ``log_batch``.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100


def mlflow_dataset(record: DatasetRecord) -> Any:
    """The MLflow dataset (with its digest) for a recorded DataFrame."""
    return mlflow.data.from_pandas(
        record.frame, source=record.source, name=record.name, targets=record.targets
    )


class RunWriter:
    """Writes one run's results to MLflow in as few calls as possible."""

    def __init__(self, tracking_uri: str, experiment_id: str, run_id: str) -> None:
        self.tracking_uri = tracking_uri
        self.experiment_id = experiment_id
        self.run_id = run_id
        self._client = client(tracking_uri)
        self._logged_params: dict[str, str] = {}

    @classmethod
    def open(cls, ctx: RunContext) -> RunWriter:
        """Create the MLflow run for ``ctx`` and log its ``config.json``."""
        experiment_id = ensure_experiment(ctx.tracking_uri, ctx.experiment_name,
                                          ctx.experiment_type.experiment_kind)
        run = retry_locked(client(ctx.tracking_uri).create_run)(
            experiment_id, run_name=ctx.run_name
        )
        writer = cls(ctx.tracking_uri, experiment_id, run.info.run_id)
        ctx.run_id = writer.run_id
        retry_locked(writer._client.log_dict)(writer.run_id, redact_value(ctx.config),
                                              names.CONFIG_ARTIFACT)
        return writer

    # --- what is pending ----------------------------------------------------------------------

    def flush(self, ctx: RunContext) -> None:
        """Write everything recorded on ``ctx`` since the last write."""
        recorder = ctx._core.recorder
        for key, value in recorder.params.items():
            if key in self._logged_params and self._logged_params[key] != param_value(key, value):
                raise PluginError(f"param {key!r} logged twice with different values "
                                  f"({self._logged_params[key]!r}, then {value!r})")
        params = {k: v for k, v in recorder.params.items() if k not in self._logged_params}
        self._log_batches(params, recorder.tags, recorder.metrics)
        self._logged_params.update({k: param_value(k, v) for k, v in params.items()})
        recorder.params.clear()
        recorder.tags.clear()
        recorder.metrics.clear()
        recorder.last_flush = time.monotonic()
        while recorder.prompts:
            self._link_prompt(recorder.prompts.pop(0))
        while recorder.datasets:
            self._log_dataset(recorder.datasets.pop(0))
        while recorder.artifacts:
            self._log_artifact(recorder.artifacts.pop(0), ctx.workdir)
        while recorder.models:
            self._log_model(recorder.models.pop(0))

    def _log_batches(self, params: dict[str, Any], tags: dict[str, str], metrics: list[Any]) -> None:
        param_list = [Param(k, param_value(k, v)) for k, v in params.items()]
        tag_list = [RunTag(k, redact(v)) for k, v in tags.items()]
        metric_list = [Metric(p.key, p.value, p.timestamp_ms, p.step or 0) for p in metrics]
        while param_list or tag_list or metric_list:
            retry_locked(self._client.log_batch)(
                self.run_id,
                metrics=metric_list[:MAX_METRICS_PER_BATCH],
                params=param_list[:MAX_PARAMS_PER_BATCH],
                tags=tag_list[:MAX_TAGS_PER_BATCH],
                synchronous=True,
            )
            del metric_list[:MAX_METRICS_PER_BATCH]
            del param_list[:MAX_PARAMS_PER_BATCH]
            del tag_list[:MAX_TAGS_PER_BATCH]

    @retry_locked
    def _link_prompt(self, prompt: PromptRef) -> None:
        version = self._client.get_prompt_version(prompt.name, prompt.version)
        self._client.link_prompt_version_to_run(self.run_id, version)

    @retry_locked
    def _log_dataset(self, record: DatasetRecord) -> None:
        dataset = mlflow_dataset(record)
        context = InputTag(key="mlflow.data.context", value=record.context)
        self._client.log_inputs(
            self.run_id, datasets=[DatasetInput(dataset._to_mlflow_entity(), tags=[context])]
        )

    @retry_locked
    def _log_artifact(self, record: ArtifactRecord, workdir: Path) -> None:
        if isinstance(record.content, str):
            self._client.log_text(self.run_id, redact(record.content), record.artifact_file)
        elif isinstance(record.content, bytes):
            staged = workdir / "_staged" / record.artifact_file
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_bytes(record.content)
            self._log_file(staged, record.artifact_file, workdir)
        elif record.figure is not None:
            self._client.log_figure(self.run_id, record.figure, record.artifact_file)
            import matplotlib.pyplot as plt

            plt.close(record.figure)
        elif record.table is not None:
            self._client.log_table(self.run_id, _redact_table(record.table), record.artifact_file)
        elif record.path is not None:
            if record.path.is_dir():
                self._client.log_artifacts(self.run_id, str(record.path), record.artifact_file)
            else:
                self._log_file(record.path, record.artifact_file, workdir)

    def _log_file(self, path: Path, artifact_file: str, workdir: Path) -> None:
        target = Path(artifact_file)
        if target.name != path.name:  # MLflow names an artifact after its file: stage a copy
            staged = workdir / "_staged" / target
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, staged)
            path = staged
        parent = str(target.parent) if str(target.parent) != "." else None
        self._client.log_artifact(self.run_id, str(path), parent)

    @retry_locked
    def _log_model(self, record: ModelRecord) -> None:
        from mlflow.models import infer_signature

        client(self.tracking_uri)  # flavors log through the process-wide tracking URI
        flavor = getattr(mlflow, record.flavor)
        signature = None
        if record.input_example is not None:
            signature = infer_signature(record.input_example, record.output_example)
        # The LoggedModel is created in the run's experiment first: left to the flavor, it would
        # land in the process's default experiment, where the run page does not look.
        logged = self._client.create_logged_model(
            experiment_id=self.experiment_id, name=record.name, source_run_id=self.run_id
        )
        info = flavor.log_model(
            record.model,
            name=record.name,
            model_id=logged.model_id,
            signature=signature,
            input_example=record.input_example,
            pip_requirements=list(record.pip_requirements) or None,
            run_id=self.run_id,
            **record.options,
        )
        self._client.set_tag(self.run_id, f"{names.MODEL_URI_TAG_PREFIX}{record.name}",
                             info.model_uri)

    # --- live services ------------------------------------------------------------------------

    @contextlib.contextmanager
    def span(self, name: str, span_type: str, inputs: Any) -> Iterator[Any]:
        """A trace span linked to this run; a root span starts a trace in the run's experiment."""
        from mlflow.entities.trace_location import MlflowExperimentLocation

        root: dict[str, Any] = {}
        if mlflow.get_current_active_span() is None:  # a new trace, in this run's experiment
            root = {"run_id": self.run_id,
                    "trace_destination": MlflowExperimentLocation(self.experiment_id)}
        with mlflow.start_span(name=name, span_type=span_type, **root) as span:
            redacted = RedactedSpan(span)
            if inputs is not None:
                redacted.set_inputs(inputs)
            try:
                yield redacted
            except BaseException as exc:  # the span records the error: without any secret
                exc.args = tuple(redact_value(arg) for arg in exc.args)
                raise

    def register_prompt(self, name: str, template: str) -> PromptRef:
        """Register ``template`` (or reuse the version with the same text) in this run's
        experiment, so it shows on the experiment's Prompts tab."""
        return register_prompt(self.tracking_uri, name, template, self.experiment_id)

    # --- the end ------------------------------------------------------------------------------

    def finish(self, ctx: RunContext, error: BaseException | None, status: str) -> None:
        """Write what is left, save the traceback as ``error.txt`` and end the run."""
        try:
            self.flush(ctx)
            mlflow.flush_trace_async_logging()  # a worker process may exit right after
        finally:
            if error is not None:
                text = redact("".join(traceback.format_exception(error)))
                retry_locked(self._client.log_text)(self.run_id, text, names.ERROR_ARTIFACT)
            retry_locked(self._client.set_terminated)(self.run_id, status)


class RedactedSpan:
    """An MLflow span whose inputs, outputs and attributes are redacted before they are set."""

    def __init__(self, span: Any) -> None:
        self._span = span

    def set_inputs(self, inputs: Any) -> None:
        self._span.set_inputs(redact_value(inputs))

    def set_outputs(self, outputs: Any) -> None:
        self._span.set_outputs(redact_value(outputs))

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        self._span.set_attributes(redact_value(attributes))

    def set_attribute(self, key: str, value: Any) -> None:
        self._span.set_attribute(key, redact_value(value))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._span, name)


def _redact_table(table: Any) -> Any:
    """A dict of columns or a DataFrame with every text cell redacted."""
    if isinstance(table, dict):
        return redact_value(table)
    return table.map(lambda cell: redact(cell) if isinstance(cell, str) else cell)


@retry_locked
def register_prompt(
    tracking_uri: str, name: str, template: str, experiment_id: str | None = None
) -> PromptRef:
    """Register ``template`` under ``name`` unless a version with the same text exists, and list
    the prompt under ``experiment_id`` (the tag the UI's Prompts tab filters on)."""
    mlflow_client = client(tracking_uri)
    found = None
    with contextlib.suppress(MlflowException):
        found = next((v for v in mlflow_client.search_prompt_versions(name, max_results=1000)
                      if v.template == template), None)
    version = found or mlflow_client.register_prompt(
        name, template, commit_message="registered by runner")
    if experiment_id is not None:
        _list_prompt_in_experiment(mlflow_client, name, experiment_id)
    return PromptRef(name, int(version.version), version.uri, template)


_PROMPT_LINK_LOCK = threading.Lock()


def _list_prompt_in_experiment(mlflow_client: MlflowClient, name: str, experiment_id: str) -> None:
    """Add ``experiment_id`` to the prompt's experiment list (MLflow's ``,1,5,`` tag format)."""
    try:  # the lock MLflow's own background linker takes (private: fall back to ours)
        from mlflow.tracking.client import _prompt_experiment_link_lock as lock
    except ImportError:
        lock = _PROMPT_LINK_LOCK
    with lock:
        tag = mlflow_client.get_prompt(name).tags.get(names.PROMPT_EXPERIMENTS_TAG) or ""
        ids = [i for i in tag.split(",") if i]
        if experiment_id not in ids:
            mlflow_client.set_prompt_tag(name, names.PROMPT_EXPERIMENTS_TAG,
                                         "," + ",".join([*ids, experiment_id]) + ",")
