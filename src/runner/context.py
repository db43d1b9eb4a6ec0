"""The run context: what a plugin reads (params, state) and what it hands back (results).

Plugins never call MLflow. They record results on the context; the built-in tracking plugin
(:mod:`runner.builtin.tracking`) writes them, so every run of every type is logged the same way.
Per-step metrics are buffered and flushed in batches, never one MLflow call per step.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

    from runner.experiment_type import ExperimentType
    from runner.plugins import PluginInfo
    from runner.tracking import Tracker

T = TypeVar("T")

#: Buffered step points that trigger a flush while a phase is still running.
STEP_FLUSH_THRESHOLD = 5000


@dataclass(frozen=True)
class MetricPoint:
    """One value of a metric; ``step`` is ``None`` for a run's final value."""

    key: str
    value: float
    step: int | None
    timestamp_ms: int


@dataclass(frozen=True)
class ModelRecord:
    """A trained model to log with its MLflow flavor (``sklearn``, ``pytorch``, ...)."""

    model: Any
    flavor: str
    name: str
    input_example: Any = None
    output_example: Any = None
    pip_requirements: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset the run used: a pandas DataFrame, where it came from and its role."""

    frame: Any
    name: str
    source: str
    targets: str | None = None
    context: str = "training"


@dataclass(frozen=True)
class ArtifactRecord:
    """An artifact: either a local file/folder (``path``) or in-memory content (``content``)."""

    artifact_file: str
    path: Path | None = None
    content: str | bytes | None = None
    figure: Any = None
    table: Any = None


@dataclass(frozen=True)
class PromptRef:
    """A prompt version in the MLflow Prompt Registry."""

    name: str
    version: int
    uri: str
    template: str


@dataclass
class Pending:
    """Results recorded but not yet written to MLflow; the tracker drains it."""

    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[MetricPoint] = field(default_factory=list)
    artifacts: list[ArtifactRecord] = field(default_factory=list)
    models: list[ModelRecord] = field(default_factory=list)
    datasets: list[DatasetRecord] = field(default_factory=list)
    prompts: list[PromptRef] = field(default_factory=list)


@dataclass
class RunContext:
    """Everything one run shares between the core and its plugins.

    :ivar experiment_type: the type being run.
    :ivar params: the validated pydantic params.
    :ivar config: the complete resolved config (also logged as ``config.json``).
    :ivar workdir: a private temporary folder for files the run writes; removed afterwards.
    :ivar seed: the ``seed`` param when the type has one (tagged for provenance).
    :ivar state: free space for an implementation to pass objects between its phases.
    :ivar run_id: the MLflow run id once the run exists (after ``runner_prepare``).
    :ivar status: ``FINISHED``, ``FAILED`` or ``KILLED`` once the run has ended.
    :ivar metrics: the final value of every metric recorded so far.
    :ivar plugin: the plugin that provides the experiment type.
    :ivar skip_if_done: skip the run when a FINISHED run has the same content key (sweeps).
    :ivar probe_only: stop after ``runner_prepare`` without creating a run (skip checks).
    """

    experiment_type: ExperimentType
    params: BaseModel
    config: dict[str, Any]
    experiment_name: str
    tracking_uri: str
    workdir: Path
    run_name: str | None = None
    seed: int | None = None
    entry_name: str | None = None
    plugin: PluginInfo | None = None
    show_progress: bool = True
    skip_if_done: bool = False
    probe_only: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    status: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    pending: Pending = field(default_factory=Pending)
    tracker: Tracker | None = None

    # --- metrics and params ------------------------------------------------------------------

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Record a metric: a final value (``step=None``) or one point of a per-step curve."""
        value = float(value)
        self.pending.metrics.append(MetricPoint(key, value, step, int(time.time() * 1000)))
        if step is None:
            self.metrics[key] = value
        if self.tracker is not None and len(self.pending.metrics) >= STEP_FLUSH_THRESHOLD:
            self.tracker.flush(self)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Record several metrics at once (same step)."""
        for key, value in metrics.items():
            self.log_metric(key, value, step)

    def log_param(self, key: str, value: Any) -> None:
        """Record a param the run derived (e.g. ``prompt_uri``) beside the user's params."""
        self.pending.params[key] = value

    def set_tag(self, key: str, value: Any) -> None:
        """Record a tag on the run."""
        self.pending.tags[key] = str(value)

    # --- artifacts -----------------------------------------------------------------------------

    def log_text(self, text: str, artifact_file: str) -> None:
        """Record a text artifact, e.g. ``prompt.txt``."""
        self.pending.artifacts.append(ArtifactRecord(artifact_file, content=text))

    def log_artifact(self, path: Path | str, artifact_file: str | None = None) -> None:
        """Record a local file or folder as an artifact (``artifact_file`` defaults to its name)."""
        path = Path(path)
        self.pending.artifacts.append(ArtifactRecord(artifact_file or path.name, path=path))

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        """Record a matplotlib figure, saved as ``artifact_file`` (``.png``)."""
        self.pending.artifacts.append(ArtifactRecord(artifact_file, figure=figure))

    def log_table(self, table: dict[str, list[Any]] | Any, artifact_file: str) -> None:
        """Record a table (dict of columns or DataFrame), shown in MLflow's evaluation view."""
        self.pending.artifacts.append(ArtifactRecord(artifact_file, table=table))

    def log_items(self, table: dict[str, list[Any]], key: str, output: str) -> None:
        """Record the per-item table (one row per input) as ``items.json``.

        :param key: the column that identifies an item (e.g. ``input``, ``question``).
        :param output: the column with the model's answer; ``runner compare`` shows it side by side.
        """
        self.log_table(table, "items.json")
        self.set_tag("runner.items.key", key)
        self.set_tag("runner.items.output", output)

    def log_model(
        self,
        model: Any,
        flavor: str,
        name: str = "model",
        input_example: Any = None,
        output_example: Any = None,
        pip_requirements: Iterable[str] = (),
        **options: Any,
    ) -> None:
        """Record a trained model; the signature is inferred from the two examples.

        :param flavor: an MLflow flavor module name, e.g. ``"sklearn"`` or ``"pytorch"``.
        :param pip_requirements: explicit requirements (inferring them costs seconds per call).
        :param options: flavor-specific arguments passed on to ``mlflow.<flavor>.log_model``,
            e.g. ``skops_trusted_types`` for scikit-learn models with trees.
        """
        self.pending.models.append(
            ModelRecord(model, flavor, name, input_example, output_example,
                        tuple(pip_requirements), dict(options))
        )

    def log_dataset(
        self,
        frame: Any,
        name: str,
        source: str,
        targets: str | None = None,
        context: str = "training",
    ) -> None:
        """Record a dataset (pandas DataFrame) as an MLflow input with its digest."""
        self.pending.datasets.append(DatasetRecord(frame, name, source, targets, context))

    # --- services that need the tracking store now ---------------------------------------------

    def register_prompt(self, name: str, template: str) -> PromptRef:
        """Register ``template`` in the MLflow Prompt Registry; identical text reuses its version."""
        from runner.tracking import register_prompt

        prompt = register_prompt(self.tracking_uri, name, template)
        self.pending.prompts.append(prompt)
        return prompt

    @contextlib.contextmanager
    def trace(
        self, name: str, span_type: str = "LLM", inputs: Any = None
    ) -> Iterator[Any]:
        """Open an MLflow trace span around one call (e.g. one LLM request).

        Yields the span: call ``span.set_outputs(...)`` and ``span.set_attributes({...})``.
        Only valid once the run exists (``runner_execute`` and later).
        """
        if self.tracker is None:
            raise RuntimeError("ctx.trace() is available from runner_execute on")
        with self.tracker.span(name, span_type, inputs) as span:
            yield span

    # --- terminal ------------------------------------------------------------------------------

    def progress(
        self, items: Iterable[T], description: str, total: int | None = None
    ) -> Iterator[T]:
        """Iterate with a progress bar on an interactive terminal; plain iteration otherwise."""
        if not (self.show_progress and sys.stderr.isatty()):
            yield from items
            return
        from rich.progress import track

        yield from track(items, description=description, total=total, transient=True)

    def flush(self) -> None:
        """Write what is pending now (the core also does this after every phase)."""
        if self.tracker is not None:
            self.tracker.flush(self)

