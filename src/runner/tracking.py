"""The one place that writes to MLflow: runs, params, batched metrics, artifacts, models, inputs.

Imported only when a run needs it, so listing commands never pay for ``import mlflow``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Artifact downloads (compare, reproduce) print no progress bars on the terminal.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag
from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential

from runner import __version__
from runner.context import ArtifactRecord, DatasetRecord, ModelRecord, PromptRef
from runner.errors import PluginError
from runner.provenance import code_version, config_hash

if TYPE_CHECKING:
    from runner.context import RunContext

#: MLflow's per-call limits for ``log_batch``.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
#: MLflow rejects longer param values; such values are logged as a pointer to ``config.json``.
MAX_PARAM_LENGTH = 6000
CONFIG_ARTIFACT = "config.json"
CONTENT_KEY_TAG = "runner.content_key"
DIGEST_TAG = "runner.data_digest."


#: MLflow loggers whose INFO lines (database creation, new experiment) are noise on a CLI.
QUIET_LOGGERS = ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent")
#: MLflow hints that a user of runner cannot act on (integer columns in a signature; a
#: dataset source path that several source types could claim).
QUIET_WARNINGS = ("Hint: Inferred schema contains integer", "The specified dataset source can be interpreted")
for _logger in QUIET_LOGGERS:
    logging.getLogger(_logger).setLevel(logging.WARNING)
for _message in QUIET_WARNINGS:
    warnings.filterwarnings("ignore", message=_message, category=UserWarning)


def configure(tracking_uri: str) -> None:
    """Point the fluent API and the prompt registry at ``tracking_uri``."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)


#: What parallel writers to one sqlite store run into, and a retry resolves:
#: - "database is locked": SQLite lets one writer in at a time, and one whose read transaction
#:   cannot upgrade gets this at once, not after MLflow's busy timeout;
#: - "UNIQUE constraint failed": two runs created the same row at once (the same dataset, prompt
#:   or experiment) between MLflow's check and its insert; on retry MLflow finds and reuses it.
TRANSIENT_ERRORS = ("database is locked", "UNIQUE constraint failed")


def is_transient(exc: BaseException) -> bool:
    """An error of concurrent writers that the same write, retried, gets past."""
    return any(message in str(exc) for message in TRANSIENT_ERRORS)


#: Every write here is one transaction (rolled back on error), so retrying it is safe.
retry_locked = retry(
    retry=retry_if_exception(is_transient),
    wait=wait_random_exponential(multiplier=0.05, max=2),
    stop=stop_after_delay(300),
    reraise=True,
)


UNSAFE_PATH_CHARS = re.compile(r"[^\w.-]+")


def artifact_root(tracking_uri: str) -> str | None:
    """For a sqlite store, ``mlartifacts/`` beside the database file, so a store is one folder.

    (MLflow's own default is ``./mlruns`` in whatever directory the process happens to run in.)
    """
    if not tracking_uri.startswith("sqlite:///"):
        return None
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    return (database.parent / "mlartifacts").resolve().as_uri()


@retry_locked
def ensure_experiment(tracking_uri: str, name: str) -> str:
    """The id of experiment ``name``, created (with artifacts beside a sqlite store) if missing."""
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    root = artifact_root(tracking_uri)
    location = f"{root}/{UNSAFE_PATH_CHARS.sub('_', name)}" if root else None
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except mlflow.exceptions.MlflowException:  # created meanwhile by a parallel worker
        existing = client.get_experiment_by_name(name)
        if existing is None:
            raise
        return str(existing.experiment_id)


def param_value(key: str, value: Any) -> str:
    """MLflow's string for a param; too-long values become a pointer into ``config.json``."""
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    if len(text) > MAX_PARAM_LENGTH:
        return f"<{len(text)} chars: see {CONFIG_ARTIFACT} params.{key}>"
    return text


class Tracker:
    """Writes one run's results to MLflow in as few calls as possible."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.client = MlflowClient()
        self._logged_params: dict[str, str] = {}

    @classmethod
    def start(cls, ctx: RunContext) -> Tracker:
        """Create the MLflow run for ``ctx`` and make it the active run."""
        configure(ctx.tracking_uri)
        experiment_id = ensure_experiment(ctx.tracking_uri, ctx.experiment_name)
        run = retry_locked(mlflow.start_run)(experiment_id=experiment_id, run_name=ctx.run_name)
        tracker = cls(run.info.run_id)
        ctx.run_id = tracker.run_id
        ctx.tracker = tracker
        mlflow.log_dict(ctx.config, CONFIG_ARTIFACT)
        return tracker

    # --- writing what is pending ---------------------------------------------------------------

    def flush(self, ctx: RunContext) -> None:
        """Write everything recorded on ``ctx`` since the last flush."""
        pending = ctx.pending
        for key, value in pending.params.items():
            if key in self._logged_params and self._logged_params[key] != param_value(key, value):
                raise PluginError(f"param {key!r} logged twice with different values "
                                  f"({self._logged_params[key]!r}, then {value!r})")
        params = {k: v for k, v in pending.params.items() if k not in self._logged_params}
        self._log_batches(params, pending.tags, pending.metrics)
        self._logged_params.update({k: param_value(k, v) for k, v in params.items()})
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
            retry_locked(self.client.log_batch)(
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
        version = self.client.get_prompt_version(prompt.name, prompt.version)
        self.client.link_prompt_version_to_run(self.run_id, version)

    @retry_locked
    def _log_dataset(self, record: DatasetRecord) -> None:
        dataset = mlflow_dataset(record)
        mlflow.log_input(dataset, context=record.context)
        self.client.set_tag(self.run_id, f"{DIGEST_TAG}{record.name}", dataset.digest)

    @retry_locked
    def _log_artifact(self, record: ArtifactRecord, workdir: Path) -> None:
        if record.content is not None:
            if isinstance(record.content, bytes):
                staged = workdir / "_staged" / record.artifact_file
                staged.parent.mkdir(parents=True, exist_ok=True)
                staged.write_bytes(record.content)
                self._log_file(staged, record.artifact_file, workdir)
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
                self._log_file(record.path, record.artifact_file, workdir)

    def _log_file(self, path: Path, artifact_file: str, workdir: Path) -> None:
        target = Path(artifact_file)
        if target.name != path.name:  # MLflow names an artifact after its file: stage a copy
            staged = workdir / "_staged" / target
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, staged)
            path = staged
        parent = str(target.parent) if str(target.parent) != "." else None
        mlflow.log_artifact(str(path), parent)

    @retry_locked
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
            **record.options,
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

    def finish(self, ctx: RunContext, error: BaseException | None, status: str) -> None:
        """Write what is left, save the traceback as ``error.txt`` and end the run."""
        try:
            self.flush(ctx)
            mlflow.flush_trace_async_logging()  # a worker process may exit right after
        finally:
            if error is not None:
                text = "".join(traceback.format_exception(error))
                mlflow.log_text(text, "error.txt")
            retry_locked(mlflow.end_run)(status)


def mlflow_dataset(record: DatasetRecord) -> Any:
    """The MLflow dataset (with its digest) for a recorded DataFrame."""
    return mlflow.data.from_pandas(
        record.frame, source=record.source, name=record.name, targets=record.targets
    )


def content_key(ctx: RunContext) -> str:
    """What makes two runs the same: resolved config, runner and plugin versions, code, data.

    Computed after ``runner_prepare``, when the datasets (and so their digests) are known.
    """
    plugin = ctx.plugin
    parts = {
        "config": config_hash({k: v for k, v in ctx.config.items() if k != "registry_entry"}),
        "runner": __version__,
        "plugin": f"{plugin.dist}=={plugin.version}" if plugin else None,
        "code": code_version(),
        "data": sorted(mlflow_dataset(record).digest for record in ctx.pending.datasets),
    }
    return config_hash(parts)


@retry_locked
def find_finished_run(tracking_uri: str, experiment_name: str, key: str) -> Any | None:
    """A FINISHED run of ``experiment_name`` whose content key is ``key``, if any."""
    configure(tracking_uri)
    client = MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`{CONTENT_KEY_TAG}` = '{key}' and attributes.status = 'FINISHED'",
        max_results=1,
    )
    return runs[0] if runs else None


@retry_locked
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


@retry_locked
def start_parent_run(
    tracking_uri: str, experiment_name: str, run_name: str, params: dict[str, Any], tags: dict[str, str]
) -> str:
    """Create a sweep's parent run (not made active: children are created beside it)."""
    configure(tracking_uri)
    client = MlflowClient()
    run = client.create_run(ensure_experiment(tracking_uri, experiment_name), run_name=run_name, tags=tags)
    client.log_batch(run.info.run_id, params=[Param(k, param_value(k, v)) for k, v in params.items()])
    return str(run.info.run_id)


@retry_locked
def finish_parent_run(
    tracking_uri: str, run_id: str, status: str, outcomes: list[Any], metric: str | None, best: Any | None
) -> None:
    """Log the sweep's results table, tag the best child, and end the parent run."""
    configure(tracking_uri)
    client = MlflowClient()
    table = {
        "run_id": [o.run_id for o in outcomes],
        "status": [o.status for o in outcomes],
        **({metric: [o.metrics.get(metric) for o in outcomes]} if metric else {}),
        "params": [json.dumps(o.params, sort_keys=True) for o in outcomes],
    }
    client.log_table(run_id, table, "sweep_results.json")
    if best is not None and metric:
        client.set_tag(run_id, "runner.best_run_id", best.run_id)
        client.log_metric(run_id, f"best_{metric}", best.metrics[metric])
    client.set_terminated(run_id, status)
