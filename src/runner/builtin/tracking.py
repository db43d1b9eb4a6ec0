"""Built-in plugin: opens the MLflow run after ``runner_prepare`` and writes after every phase.

Every phase is wrapped, so whatever a phase recorded is in MLflow before the next one starts;
a failing phase loses nothing that came before it. The run's writer is kept here, keyed by the
context, so no plugin can reach the store through ``ctx``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from runner.errors import InputError
from runner.hookspecs import hookimpl
from runner.store.names import CONTENT_KEY_TAG, INPUT_DIGEST_TAG_PREFIX

if TYPE_CHECKING:
    from runner.context import RunContext
    from runner.store.writer import RunWriter

#: The open run of each context (by ``id(ctx)``), from its creation to ``runner_finish``.
_writers: dict[int, RunWriter] = {}


def _open(ctx: RunContext) -> None:
    from runner.store.writer import RunWriter

    writer = RunWriter.open(ctx)
    _writers[id(ctx)] = writer
    ctx._core.flush = lambda: writer.flush(ctx)
    ctx._core.span = writer.span
    ctx._core.register_prompt = writer.register_prompt
    writer.flush(ctx)


def _open_unless_done(ctx: RunContext) -> None:
    """Tag the run's content key; with skip-if-done, skip when a FINISHED twin exists."""
    from runner.store.keys import content_key, input_digests
    from runner.store.mlflow_store import find_finished_run

    digests = input_digests(ctx)
    for name, digest in digests.items():
        ctx.set_tag(f"{INPUT_DIGEST_TAG_PREFIX}{name}", digest)
    key = content_key(ctx, digests)
    ctx.set_tag(CONTENT_KEY_TAG, key)
    if ctx._core.skip_if_done:
        ctx._core.done_as = find_finished_run(ctx.tracking_uri, ctx.experiment_name, key)
        if ctx._core.done_as is not None:
            return  # the lifecycle stops here and reports the run SKIPPED
    if not ctx._core.probe_only:
        _open(ctx)


@hookimpl(wrapper=True)
def runner_prepare(ctx: RunContext) -> Generator[None, None, None]:
    """Create the run once inputs are known good; bad input (``InputError``) creates none."""
    try:
        yield
    except (InputError, KeyboardInterrupt):
        raise
    except Exception:
        if not ctx._core.probe_only:  # an unexpected failure is still a run, ended FAILED
            _open(ctx)
        raise
    _open_unless_done(ctx)


@hookimpl(wrapper=True)
def runner_execute(ctx: RunContext) -> Generator[None, None, None]:
    """Write the buffered curves and results of the execute phase, also when it fails."""
    try:
        yield
    finally:
        ctx.flush()


@hookimpl(wrapper=True)
def runner_evaluate(ctx: RunContext) -> Generator[None, None, None]:
    """Write the final metrics."""
    try:
        yield
    finally:
        ctx.flush()


@hookimpl(wrapper=True)
def runner_log(ctx: RunContext) -> Generator[None, None, None]:
    """Write models, figures, tables and artifacts."""
    try:
        yield
    finally:
        ctx.flush()


@hookimpl(wrapper=True)
def runner_finish(ctx: RunContext, error: BaseException | None) -> Generator[None, None, None]:
    """End the MLflow run after every other implementation ran.

    So the others see the final ``ctx.status`` and can still add tags, metrics or artifacts,
    which are written before the run ends.
    """
    writer = _writers.pop(id(ctx), None)
    if writer is None:
        return (yield)
    try:
        return (yield)
    finally:
        writer.finish(ctx, error, str(ctx.status))
