"""The run context: what a plugin reads (params, seed, workdir) and what it hands back (results).

Plugins never call MLflow. They record results on the context; the core's store writes them
(:mod:`runner.builtin.tracking`), so every run of every type is logged the same way. Per-step
metrics are buffered and flushed in batches, never one MLflow call per step.

``RunContext`` is generic in its params model, so ``ctx.params.C`` type-checks in a plugin::

    class MyExperiment:
        @hookimpl
        def runner_execute(self, ctx: RunContext[MyParams]) -> None:
            ctx.log_metric("loss", train(ctx.params.lr))

What the core needs to track a run (pending writes, the store, skip and probe flags) lives in
``ctx._core``, which is not part of the plugin API.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from runner.recorder import Recorder

if TYPE_CHECKING:
    from runner.experiment_type import ExperimentType
    from runner.plugins import PluginInfo
    from runner.recorder import PromptRef

P = TypeVar("P", bound=BaseModel)
T = TypeVar("T")


@dataclass
class CoreState:
    """The core's own bookkeeping for one run; plugins do not touch it."""

    recorder: Recorder = field(default_factory=Recorder)
    skip_if_done: bool = False
    probe_only: bool = False
    #: With ``skip_if_done``: the FINISHED run with the same content key, found after prepare.
    done_as: str | None = None
    #: Set by the store once the MLflow run exists: writes what is pending now.
    flush: Any = None
    #: Set by the store once the MLflow run exists: ``(name, span_type, inputs) -> span cm``.
    span: Any = None
    #: ``(name, template) -> PromptRef``, set by the store.
    register_prompt: Any = None
    #: USD plugins reported spending on APIs (``ctx.add_cost``); the ledger adds it to cost_usd.
    api_cost_usd: float = 0.0
    #: Curve -> the highest step logged so far (``ctx.metrics`` holds its value there).
    last_steps: dict[str, int] = field(default_factory=dict)


def _numeric_column(column: list[Any]) -> bool:
    """Numbers (or bools) with at most some missing cells, and at least one number."""
    values = [v for v in column if v is not None]
    return bool(values) and all(isinstance(v, int | float) for v in values)


@dataclass
class RunContext(Generic[P]):
    """Everything one run shares between the core and its plugins.

    :ivar experiment_type: the type being run.
    :ivar params: the validated pydantic params (``RunContext[MyParams]`` types them).
    :ivar config: the complete resolved config (also logged as ``config.json``).
    :ivar experiment_name: the MLflow experiment the run goes to.
    :ivar workdir: a private temporary folder for files the run writes; removed afterwards.
    :ivar run_name: the MLflow run name.
    :ivar seed: the ``seed`` param when the type has one (tagged for provenance).
    :ivar entry_name: the registry entry, when the run came from one.
    :ivar plugin: the plugin that provides the experiment type.
    :ivar run_id: the MLflow run id once the run exists (after ``runner_prepare``); for a
        skipped run, the id of the earlier FINISHED run with the same content key.
    :ivar status: ``FINISHED``, ``FAILED``, ``KILLED`` or ``SKIPPED`` once the run has ended.
    :ivar partial: ``True`` while ``runner_evaluate``/``runner_log`` run after an earlier phase
        failed or was interrupted: evaluate and log what was produced, if anything.
    :ivar metrics: the final value of every metric recorded so far.
    :ivar use_cache: ``False`` under ``--no-cache``: a plugin that caches results (LLM
        responses, embeddings) must recompute them, and may refresh its cache with the new ones.
    """

    experiment_type: ExperimentType
    params: P
    config: dict[str, Any]
    experiment_name: str
    tracking_uri: str
    workdir: Path
    run_name: str | None = None
    seed: int | None = None
    entry_name: str | None = None
    plugin: PluginInfo | None = None
    show_progress: bool = True
    use_cache: bool = True
    run_id: str | None = None
    status: str | None = None
    partial: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    _core: CoreState = field(default_factory=CoreState, repr=False)

    # --- metrics and params ------------------------------------------------------------------

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Record a metric: a final value (``step=None``) or one point of a per-step curve.

        ``ctx.metrics`` keeps a curve's value at its highest step, as MLflow shows it.
        """
        value = float(value)
        self._core.recorder.metric(key, value, step)
        last = self._core.last_steps
        if step is None or step >= last.get(key, step):
            self.metrics[key] = value
            if step is not None:
                last[key] = step
        if self._core.flush is not None and self._core.recorder.flush_due():
            self._core.flush()

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Record several metrics at once (same step)."""
        for key, value in metrics.items():
            self.log_metric(key, value, step)

    def log_param(self, key: str, value: Any) -> None:
        """Record a param the run derived (e.g. ``prompt_uri``) beside the user's params."""
        self._core.recorder.params[key] = value

    def set_tag(self, key: str, value: Any) -> None:
        """Record a tag on the run."""
        self._core.recorder.tags[key] = str(value)

    # --- artifacts -----------------------------------------------------------------------------

    def log_text(self, text: str, artifact_file: str) -> None:
        """Record a text artifact, e.g. ``prompt.txt``."""
        self._core.recorder.artifact(artifact_file, content=text)

    def log_artifact(self, path: Path | str, artifact_file: str | None = None) -> None:
        """Record a local file or folder as an artifact (``artifact_file`` defaults to its name)."""
        path = Path(path)
        self._core.recorder.artifact(artifact_file or path.name, path=path)

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        """Record a matplotlib figure, saved as ``artifact_file`` (``.png``)."""
        self._core.recorder.artifact(artifact_file, figure=figure)

    def log_table(self, table: dict[str, list[Any]] | Any, artifact_file: str) -> None:
        """Record a table (dict of columns or DataFrame), shown in MLflow's evaluation view."""
        self._core.recorder.artifact(artifact_file, table=table)

    def log_items(
        self, table: dict[str, list[Any]], key: str, output: str,
        scores: Sequence[str] | None = None,
    ) -> None:
        """Record the per-item table (one row per input) that ``runner compare`` lines up.

        :param key: the column that identifies an item (e.g. ``input``, ``question``).
        :param output: the column with the model's answer; ``runner compare`` shows it side by side.
        :param scores: the numeric columns that score an item (higher or lower is better as the
            run metric of the same name, or ``<name>_mean``, declares); ``runner compare`` tests
            the paired differences of these between two runs. ``None``: every numeric column
            but ``key``.

        Two optional columns have a fixed meaning: ``passed`` (bool: the item met its checks)
        and ``failure`` (why not); ``runner run --junit`` reports them as test cases.
        """
        if key not in table or output not in table:
            raise ValueError(f"log_items: the table has no column {key!r} or {output!r}")
        if scores is None:
            scores = [name for name, column in table.items()
                      if name != key and _numeric_column(column)]
        missing = [name for name in scores if name not in table]
        if missing:
            raise ValueError(f"log_items: score columns not in the table: {missing}")
        self._core.recorder.items(table, key, output, list(scores))

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
        :param options: flavor-specific arguments passed on to the flavor's ``log_model``,
            e.g. ``skops_trusted_types`` for scikit-learn models with trees.
        """
        self._core.recorder.model(
            model, flavor, name, input_example, output_example, tuple(pip_requirements), options
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
        self._core.recorder.dataset(frame, name, source, targets, context)

    def log_input(self, name: str, path: Path | str | None = None, text: str | None = None) -> None:
        """Declare something the run reads that is not a logged dataset: a file or folder (a
        prompt template file, a local model), or a text (a rendered template, a corpus).

        Its digest (every byte) goes into the content key, so skip-if-done never reuses a run
        made from other inputs, and ``runner reproduce`` reports it as drift when it changed.
        Call it in ``runner_prepare``. Datasets from ``ctx.log_dataset`` whose source is a local
        path are covered already.
        """
        from runner.inputs import path_digest, text_digest

        if (path is None) == (text is None):
            raise TypeError("ctx.log_input() takes a path or a text")
        digest = path_digest(Path(path)) if path is not None else text_digest(str(text))
        self._core.recorder.inputs[name] = digest

    def add_cost(self, usd: float) -> None:
        """Report money spent on an API during the run (e.g. LLM tokens at their price).

        The core's cost ledger logs ``api_cost_usd`` (the sum) and ``cost_usd`` = compute cost +
        API cost on every run; plugins do not log ``cost_usd`` themselves.
        """
        self._core.api_cost_usd += float(usd)

    def add_secret(self, value: str | None) -> None:
        """A value (an API key, a token) that must never be written: it is masked as ``***`` in
        params, tags, artifacts, traces, ``error.txt`` and terminal output."""
        from runner.secrets import register

        register(value)

    # --- services that need the tracking store now ---------------------------------------------

    def register_prompt(self, name: str, template: str) -> PromptRef:
        """Register ``template`` in the MLflow Prompt Registry; identical text reuses its version.

        The prompt is linked to this run. Available from ``runner_execute`` on.
        """
        if self._core.register_prompt is None:
            raise RuntimeError("ctx.register_prompt() is available from runner_execute on")
        prompt: PromptRef = self._core.register_prompt(name, template)
        self._core.recorder.prompts.append(prompt)
        return prompt

    @contextlib.contextmanager
    def trace(self, name: str, span_type: str = "LLM", inputs: Any = None) -> Iterator[Any]:
        """Open an MLflow trace span around one call (e.g. one LLM request), linked to the run.

        Yields the span: call ``span.set_outputs(...)`` and ``span.set_attributes({...})``.
        Spans opened inside another span nest under it. Available from ``runner_execute`` on.
        """
        if self._core.span is None:
            raise RuntimeError("ctx.trace() is available from runner_execute on")
        with self._core.span(name, span_type, inputs) as span:
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
        if self._core.flush is not None:
            self._core.flush()
