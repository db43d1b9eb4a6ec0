"""Opening the MLflow store, and all of it but writing one run (:mod:`runner.store.writer`): the
client (each store created, migrated and checked once per process), experiments, the retry policy
every write goes through, reading runs back, sweep parent runs, and ending runs whose process is
gone.

Every call names its run explicitly (``MlflowClient`` and run ids, never the fluent "active
run"), so several runs can be open in one process. Imported only when a command needs the
store, so listing commands never pay for ``import mlflow``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Artifact downloads (compare, reproduce) print no progress bars on the terminal.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
# Nor, against a tracking server, "View run at http://..." lines on stdout (it is for --json).
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
# Traces are written as each span ends, not by MLflow's pool of export threads: those threads
# compete with the run's own writes for a sqlite store (1.7 s of a 7 s cached llm-prompt run),
# and a trace that is written when its call ends is not lost when the process is killed.
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")

with warnings.catch_warnings():
    # MLflow imports tqdm.auto, which in a notebook without ipywidgets warns about progress bars
    # that runner never asks MLflow to draw.
    warnings.filterwarnings("ignore", message="IProgress not found")
    import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from tenacity import retry, retry_if_exception, wait_random_exponential  # noqa: E402

from runner.errors import InputError  # noqa: E402
from runner.secrets import redact  # noqa: E402
from runner.store import names  # noqa: E402
from runner.store.uris import server_reachable, sqlite_path  # noqa: E402

#: MLflow rejects longer param values; such values are logged as a pointer to ``config.json``.
MAX_PARAM_LENGTH = 6000

#: MLflow loggers whose INFO lines (database creation, new experiment, trace queue) are noise.
QUIET_LOGGERS = ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent",
                 "mlflow.tracing.export.async_export_queue")
#: MLflow hints that a user of runner cannot act on (integer columns in a signature; a
#: dataset source path that several source types could claim).
QUIET_WARNINGS = ("Hint: Inferred schema contains integer",
                  "The specified dataset source can be interpreted")
for _logger in QUIET_LOGGERS:
    logging.getLogger(_logger).setLevel(logging.WARNING)
for _message in QUIET_WARNINGS:
    warnings.filterwarnings("ignore", message=_message, category=UserWarning)

#: What parallel writers to one sqlite store run into, and a retry resolves:
#: - "database is locked": SQLite lets one writer in at a time, and one whose read transaction
#:   cannot upgrade gets this at once, not after MLflow's busy timeout;
#: - "UNIQUE constraint failed": two runs created the same row at once (the same dataset, prompt
#:   or experiment) between MLflow's check and its insert; on retry MLflow finds and reuses it.
TRANSIENT_ERRORS = ("database is locked", "UNIQUE constraint failed")
#: What a write meets while a database server restarts (a ``postgresql://`` URI used directly; an
#: ``http://`` tracking server's client already retries refused connections and 5xx answers
#: itself, with backoff, for ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` tries). A write that failed this
#: way never reached the database, so retrying it is safe.
RESTART_ERRORS = ("Connection refused", "could not connect to server",
                  "server closed the connection unexpectedly",
                  "terminating connection due to administrator command",
                  "the database system is starting up", "the database system is shutting down",
                  "the database system is in recovery mode", "duplicate key value violates unique")
#: How long writes are retried through a server restart (locks wait up to 300 s).
RESTART_RETRY_SEC = 60.0
LOCKED_RETRY_SEC = 300.0


def is_transient(exc: BaseException) -> bool:
    """An error of concurrent writers, or of a restarting server, that the same write, retried,
    gets past. Never an ``InputError``: "tracking server ...: cannot connect (Connection
    refused)" is runner's one line for a server that is not running, said at once."""
    if isinstance(exc, InputError):
        return False
    return any(message in str(exc) for message in (*TRANSIENT_ERRORS, *RESTART_ERRORS))


def _stop_retrying(state: Any) -> bool:
    """Locked sqlite writes are retried up to 300 s; a restarting server up to 60 s."""
    error = state.outcome.exception() if state.outcome is not None else None
    restart = error is not None and not any(m in str(error) for m in TRANSIENT_ERRORS)
    return bool(state.seconds_since_start >= (RESTART_RETRY_SEC if restart else LOCKED_RETRY_SEC))


#: Every write here is one transaction (rolled back on error), so retrying it is safe.
retry_locked = retry(
    retry=retry_if_exception(is_transient),
    wait=wait_random_exponential(multiplier=0.05, max=2),
    stop=_stop_retrying,
    reraise=True,
)

UNSAFE_PATH_CHARS = re.compile(r"[^\w.-]+")


#: Tracking URIs this process has opened (created, migrated and checked) already.
_opened: set[str] = set()
#: Tracking servers this process's sweep driver reached (see :func:`reached_by_driver`).
_reached: set[str] = set()


def reached_by_driver(tracking_uri: str) -> None:
    """In a sweep's worker: the driver reached this tracking server, so a refused connection on
    the worker's first call is a server restarting, waited out with MLflow's client retries
    (with backoff, ~4 minutes by default), not a server that is not running (one line at once)."""
    _reached.add(tracking_uri)


def _check_writable(database: Path) -> None:
    """A sqlite store whose file or folder cannot be written is one line, before MLflow tries."""
    folder = database.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"tracking store {database}: {existing} is a file, not a folder")
    if database.is_dir():
        raise InputError(f"tracking store {database}: is a folder, not a database file")
    if database.exists() and not os.access(database, os.R_OK | os.W_OK):
        raise InputError(f"tracking store {database}: permission denied (cannot write the file)")
    writable_folder = folder if folder.exists() else existing
    if writable_folder is not None and not os.access(writable_folder, os.W_OK | os.X_OK):
        raise InputError(f"tracking store {database}: permission denied (cannot write in "
                         f"{writable_folder})")


def _probe_sqlite(database: Path) -> None:
    """Open the file with sqlite itself first: MLflow retries a failing open for ~107 s."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=rwc", uri=True)) as db:
            db.execute("pragma user_version").fetchone()
    except sqlite3.Error as exc:
        raise InputError(f"tracking store {database}: {exc}") from None


def _open_store(tracking_uri: str) -> None:
    """Create or migrate the store once per process; concurrent first openers take turns.

    MLflow creates and migrates a sqlite database when a client first opens it; two processes
    doing that at once race on the schema migration and leave it broken. A file lock beside
    the database serialises the first open across processes.
    """
    database = sqlite_path(tracking_uri)
    if database is None:
        if tracking_uri not in _reached:  # down: one line now, not minutes of MLflow's retries
            server_reachable(tracking_uri)
        MlflowClient(tracking_uri).search_experiments(max_results=1)
        return
    _check_writable(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    _probe_sqlite(database)
    from filelock import FileLock

    try:
        with FileLock(f"{database}.lock", timeout=300):
            MlflowClient(tracking_uri).search_experiments(max_results=1)
    except MlflowException as exc:
        if "out-of-date database schema" in str(exc) or "alembic" in str(exc).lower():
            raise InputError(
                f"tracking store {database} has an unfinished schema migration: keep a copy, "
                f"then run `mlflow db upgrade {tracking_uri}` (or start a new store)"
            ) from None
        raise
    except OSError as exc:
        raise InputError(f"tracking store {database}: {exc.strerror or exc}") from None


def client(tracking_uri: str) -> MlflowClient:
    """A client for ``tracking_uri``; also the registry (prompts) and flavor ``log_model`` URI."""
    if tracking_uri not in _opened:
        _open_store(tracking_uri)
        _opened.add(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    return MlflowClient(tracking_uri, registry_uri=tracking_uri)


def artifact_root(tracking_uri: str) -> str | None:
    """For a sqlite store, ``mlartifacts/`` beside the database file, so a store is one folder.

    (MLflow's own default is ``./mlruns`` in whatever directory the process happens to run in.)
    """
    database = sqlite_path(tracking_uri)
    return None if database is None else (database.parent / "mlartifacts").resolve().as_uri()


@retry_locked
def ensure_experiment(tracking_uri: str, name: str, kind: str | None = None) -> str:
    """The id of experiment ``name``, created (with artifacts beside a sqlite store) if missing.

    :param kind: the ``mlflow.experimentKind`` tag (how the UI opens it), set when the
        experiment has none yet.
    """
    mlflow_client = client(tracking_uri)
    experiment = mlflow_client.get_experiment_by_name(name)
    if experiment is None:
        root = artifact_root(tracking_uri)
        location = f"{root}/{UNSAFE_PATH_CHARS.sub('_', name)}" if root else None
        tags = {names.EXPERIMENT_KIND_TAG: kind} if kind else None
        try:
            return str(mlflow_client.create_experiment(name, artifact_location=location, tags=tags))
        except MlflowException:  # created meanwhile by a parallel worker
            experiment = mlflow_client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if kind and names.EXPERIMENT_KIND_TAG not in experiment.tags:
        mlflow_client.set_experiment_tag(experiment.experiment_id, names.EXPERIMENT_KIND_TAG, kind)
    return str(experiment.experiment_id)


def param_value(key: str, value: Any) -> str:
    """MLflow's string for a param; too-long values become a pointer into ``config.json``."""
    text = redact(json.dumps(value) if isinstance(value, (list, dict)) else str(value))
    if len(text) > MAX_PARAM_LENGTH:
        return f"<{len(text)} chars: see {names.CONFIG_ARTIFACT} params.{key}>"
    return text


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    """What the core reads back of a run."""

    run_id: str
    run_name: str
    status: str
    experiment_id: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def _view(run: Any) -> RunView:
    return RunView(run.info.run_id, run.info.run_name or "", run.info.status,
                   run.info.experiment_id, dict(run.data.params), dict(run.data.metrics),
                   dict(run.data.tags))


def get_run(tracking_uri: str, run_id: str) -> RunView:
    """The run, or one clear ``InputError`` when there is no such run."""
    try:
        return _view(client(tracking_uri).get_run(run_id))
    except MlflowException:
        raise InputError(f"no run with id {run_id!r} in this tracking store") from None


def run_metrics(tracking_uri: str, run_id: str) -> dict[str, float]:
    """The latest value of every metric of ``run_id``."""
    return get_run(tracking_uri, run_id).metrics


def load_json_artifact(tracking_uri: str, run_id: str, artifact: str) -> Any:
    """A JSON artifact of the run; ``InputError`` when it has none."""
    try:
        path = client(tracking_uri).download_artifacts(run_id, artifact)
    except (MlflowException, OSError):
        raise InputError(f"run {run_id} has no {artifact}") from None
    with open(path) as handle:
        return json.load(handle)


def load_config(tracking_uri: str, run_id: str) -> dict[str, Any]:
    """The run's logged ``config.json``; a run made outside runner has none."""
    get_run(tracking_uri, run_id)
    try:
        return dict(load_json_artifact(tracking_uri, run_id, names.CONFIG_ARTIFACT))
    except InputError:
        raise InputError(f"run {run_id} has no {names.CONFIG_ARTIFACT}: it was not made by runner"
                         ) from None


@retry_locked
def find_finished_run(tracking_uri: str, experiment_name: str, key: str) -> str | None:
    """The id of a FINISHED run of ``experiment_name`` whose content key is ``key``, if any."""
    mlflow_client = client(tracking_uri)
    experiment = mlflow_client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return None
    runs = mlflow_client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`{names.CONTENT_KEY_TAG}` = '{key}' and attributes.status = 'FINISHED'",
        max_results=1,
    )
    return str(runs[0].info.run_id) if runs else None


def top_runs(tracking_uri: str, experiment: str, metric: str, k: int, maximize: bool) -> list[str]:
    """Ids of the ``k`` best FINISHED runs of ``experiment`` by ``metric``."""
    mlflow_client = client(tracking_uri)
    found = mlflow_client.get_experiment_by_name(experiment)
    if found is None:
        raise InputError(f"no experiment named {experiment!r}")
    runs = mlflow_client.search_runs(
        [found.experiment_id], filter_string="attributes.status = 'FINISHED'",
        order_by=[f"metrics.`{metric}` {'DESC' if maximize else 'ASC'}"], max_results=k,
    )
    runs = [r for r in runs if metric in r.data.metrics]
    if not runs:
        raise InputError(f"no finished run in {experiment!r} has metric {metric!r}")
    return [r.info.run_id for r in runs]


# --- sweep parents -----------------------------------------------------------------------------


@retry_locked
def start_parent_run(
    tracking_uri: str, experiment_name: str, run_name: str, params: dict[str, Any],
    tags: dict[str, str],
) -> str:
    """Create a sweep's parent run; children name it in their ``mlflow.parentRunId`` tag."""
    mlflow_client = client(tracking_uri)
    run = mlflow_client.create_run(ensure_experiment(tracking_uri, experiment_name),
                                   run_name=run_name, tags=tags)
    mlflow_client.log_batch(run.info.run_id,
                            params=[Param(k, param_value(k, v)) for k, v in params.items()])
    return str(run.info.run_id)


@retry_locked
def finish_parent_run(
    tracking_uri: str, run_id: str, status: str, table: dict[str, list[Any]],
    best: tuple[str, str, float] | None, metrics: dict[str, float] | None = None,
) -> None:
    """Log the sweep's results table, tag the best child ``(run_id, metric, value)``,
    log ``metrics`` (a repeat parent's summaries) and end it."""
    mlflow_client = client(tracking_uri)
    mlflow_client.log_table(run_id, table, names.SWEEP_RESULTS_ARTIFACT)
    if metrics:
        now = int(time.time() * 1000)
        mlflow_client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])
    if best is not None:
        best_run, metric, value = best
        mlflow_client.set_tag(run_id, names.BEST_RUN_TAG, best_run)
        mlflow_client.log_metric(run_id, f"best_{metric}", value)
    mlflow_client.set_terminated(run_id, status)


# --- runs whose process is gone ----------------------------------------------------------------


def running_runs(tracking_uri: str, experiment: str | None = None) -> list[RunView]:
    """Every RUNNING run of ``experiment`` (or of the whole store)."""
    mlflow_client = client(tracking_uri)
    if experiment is not None:
        found = mlflow_client.get_experiment_by_name(experiment)
        ids = [found.experiment_id] if found else []
    else:
        ids = [e.experiment_id for e in mlflow_client.search_experiments()]
    if not ids:
        return []
    runs = mlflow_client.search_runs(ids, filter_string="attributes.status = 'RUNNING'",
                                     max_results=10_000)
    return [_view(run) for run in runs]


@retry_locked
def mark_failed(tracking_uri: str, run_id: str, reason: str) -> None:
    """End a run FAILED, saying why in a tag."""
    mlflow_client = client(tracking_uri)
    mlflow_client.set_tag(run_id, names.STALE_TAG, reason)
    mlflow_client.set_terminated(run_id, "FAILED")


# --- sweeps on several workers (runner.executors) -------------------------------------------


def sweep_children(
    tracking_uri: str, experiment: str, parent_run_id: str, *, status: str | None = None,
    tags: dict[str, str] | None = None,
) -> list[RunView]:
    """Child runs of sweep parent ``parent_run_id``, optionally only those with ``status`` and
    the given tag values."""
    mlflow_client = client(tracking_uri)
    found = mlflow_client.get_experiment_by_name(experiment)
    if found is None:
        return []
    clauses = [f"tags.`{names.PARENT_RUN_TAG}` = '{parent_run_id}'"]
    if status is not None:
        clauses.append(f"attributes.status = '{status}'")
    clauses += [f"tags.`{key}` = '{value}'" for key, value in (tags or {}).items()]
    runs = retry_locked(mlflow_client.search_runs)(
        [found.experiment_id], filter_string=" and ".join(clauses), max_results=10_000)
    return [_view(run) for run in runs]


@retry_locked
def end_run(tracking_uri: str, run_id: str, status: str, reason: str) -> None:
    """End a run another process left open (``KILLED``/``FAILED``), saying why in a tag."""
    mlflow_client = client(tracking_uri)
    mlflow_client.set_tag(run_id, names.STALE_TAG, reason)
    mlflow_client.set_terminated(run_id, status)
