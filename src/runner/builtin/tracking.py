"""Built-in plugin: starts the MLflow run after ``runner_prepare`` and writes after every phase.

Every phase is wrapped, so whatever a phase recorded is in MLflow before the next one starts;
a failing phase loses nothing that came before it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from runner.errors import InputError, RunSkipped
from runner.hookspecs import hookimpl

if TYPE_CHECKING:
    from runner.context import RunContext


def status_of(error: BaseException | None) -> str:
    """``FINISHED`` on success, ``KILLED`` on Ctrl-C, ``FAILED`` on any other exception."""
    if error is None:
        return "FINISHED"
    return "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"


def _start(ctx: RunContext) -> None:
    from runner.tracking import Tracker

    Tracker.start(ctx).flush(ctx)


def _start_unless_done(ctx: RunContext) -> None:
    """Tag the run's content key; with ``skip_if_done``, skip when a FINISHED twin exists."""
    from runner.tracking import CONTENT_KEY_TAG, content_key, find_finished_run

    key = content_key(ctx)
    ctx.set_tag(CONTENT_KEY_TAG, key)
    if ctx.skip_if_done:
        done = find_finished_run(ctx.tracking_uri, ctx.experiment_name, key)
        if done is not None:
            raise RunSkipped(done.info.run_id)
    if not ctx.probe_only:
        _start(ctx)


@hookimpl(wrapper=True)
def runner_prepare(ctx: RunContext) -> Generator[None, None, None]:
    """Create the run once inputs are known good; bad input (``InputError``) creates none."""
    try:
        yield
    except (InputError, KeyboardInterrupt):
        raise
    except Exception:
        if not ctx.probe_only:  # an unexpected failure is still a run, ended FAILED with its traceback
            _start(ctx)
        raise
    _start_unless_done(ctx)


@hookimpl(wrapper=True)
def runner_execute(ctx: RunContext) -> Generator[None, None, None]:
    """Write the buffered curves and results of the execute phase."""
    yield
    ctx.flush()


@hookimpl(wrapper=True)
def runner_evaluate(ctx: RunContext) -> Generator[None, None, None]:
    """Write the final metrics."""
    yield
    ctx.flush()


@hookimpl(wrapper=True)
def runner_log(ctx: RunContext) -> Generator[None, None, None]:
    """Write models, figures, tables and artifacts."""
    yield
    ctx.flush()


@hookimpl(wrapper=True)
def runner_finish(ctx: RunContext, error: BaseException | None) -> Generator[None, None, None]:
    """Decide the status before the other plugins run, end the MLflow run after them.

    So every other implementation sees the final ``ctx.status`` and can still add tags,
    metrics or artifacts, which are written before the run ends.
    """
    if ctx.tracker is None:
        return (yield)
    ctx.status = status_of(error)
    try:
        return (yield)
    finally:
        ctx.tracker.finish(ctx, error, ctx.status)
