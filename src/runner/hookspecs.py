"""The hook specifications: what a plugin can implement.

Two kinds of plugin implement these hooks:

* a *plugin module* found through the ``runner`` entry-point group (or built in); it implements
  ``runner_register_experiment_types`` and may wrap any lifecycle phase of every run;
* an *experiment implementation* (``ExperimentType.implementation``), registered only for the
  duration of one run of its own type, which does the phase's real work.

Every lifecycle hook calls **all** implementations (none is ``firstresult``) and returns nothing
useful: results go through the :class:`~runner.context.RunContext`. Cross-cutting plugins observe
or extend a phase with ``@hookimpl(wrapper=True)``: code before ``yield`` runs before the phase,
``yield`` re-raises the phase's exception, code after it runs after the phase.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from runner.context import RunContext
    from runner.experiment_type import ExperimentType

hookspec = pluggy.HookspecMarker("runner")
hookimpl = pluggy.HookimplMarker("runner")


# --- declaration -------------------------------------------------------------------------------


@hookspec
def runner_register_experiment_types(register: Callable[[ExperimentType], None]) -> None:
    """Declare the experiment types this plugin provides.

    :param register: call once per :class:`~runner.experiment_type.ExperimentType`. Ids must be
        unique across all loaded plugins; a duplicate marks the second plugin broken.

    Called for every plugin, at start-up of every command. Must stay cheap: import only pydantic
    models here, never the libraries a run needs. Returns nothing.
    """


@hookspec
def runner_register_commands(cli: click.Group) -> None:
    """Add commands to the ``runner`` command line.

    :param cli: the ``runner`` click group: add commands with ``@cli.command()`` or
        ``cli.add_command(...)``. A :class:`~runner.errors.RunnerError` raised by a command is
        printed as one ``error:`` line (exit 2), like the core's own commands.

    Called at start-up of the command line, for every plugin. Import heavy libraries inside the
    command, not here. Returns nothing.
    """


# --- run lifecycle: prepare -> execute -> evaluate -> log, then finish --------------------------


@hookspec
def runner_prepare(ctx: RunContext) -> None:
    """Load data and build what the run needs; check inputs that the params schema cannot.

    :param ctx: the run context; ``ctx.params`` holds the validated params.

    Runs *before* the MLflow run exists. Raising :class:`~runner.errors.InputError` here aborts
    without creating a run (bad data path, missing column, ...); any other exception creates the
    run and ends it ``FAILED``. Everything recorded on ``ctx`` (datasets, tags, params) is written
    once the run starts. All implementations are called; returns nothing.
    """


@hookspec
def runner_execute(ctx: RunContext) -> None:
    """Do the run's main work: train the model, query the LLM, build the index and answer.

    :param ctx: the run context; per-step metrics recorded here (``ctx.log_metric(..., step=i)``)
        are buffered and written in batches.

    All implementations are called; returns nothing. An exception ends the run ``FAILED``
    (``KILLED`` for an interrupt) with what was recorded so far kept; the core then still calls
    ``runner_evaluate`` and ``runner_log`` with ``ctx.partial`` set, so an implementation that
    keeps what it produced so far (answers, epochs) on ``self`` gets it scored and logged.
    """


@hookspec
def runner_evaluate(ctx: RunContext) -> None:
    """Compute the run's final metrics from what ``runner_execute`` produced.

    :param ctx: the run context; record metrics with ``ctx.log_metric``/``ctx.log_metrics``.

    All implementations are called; returns nothing. With ``ctx.partial`` set, an earlier phase
    failed: evaluate what was produced (and return early if nothing was). An exception raised
    on partial results is tagged ``runner.partial_error`` and never hides the first error.
    """


@hookspec
def runner_log(ctx: RunContext) -> None:
    """Hand the run's outputs to the core: models, figures, tables, text artifacts.

    :param ctx: the run context; use ``ctx.log_model``, ``ctx.log_figure``, ``ctx.log_table``,
        ``ctx.log_text``, ``ctx.log_artifact``.

    All implementations are called; returns nothing. The built-in tracking plugin wraps this
    phase and writes everything to MLflow after the other implementations ran. Called with
    ``ctx.partial`` set after a failed phase, like ``runner_evaluate``.
    """


@hookspec
def runner_finish(ctx: RunContext, error: BaseException | None) -> None:
    """Called once after the run, whether it finished, failed, was interrupted or skipped.

    :param ctx: the run context; ``ctx.status`` is ``FINISHED``, ``FAILED``, ``KILLED`` or
        ``SKIPPED`` (skip-if-done found a FINISHED run with the same content key: nothing ran
        after ``runner_prepare`` and ``ctx.run_id`` is that earlier run's id). ``ctx.run_id`` is
        ``None`` when no MLflow run was created (input rejected in ``runner_prepare``).
    :param error: the exception that ended the run early, or ``None`` on success and on skip
        (``KeyboardInterrupt`` means the user stopped it).

    All implementations are called; exceptions raised here are reported, never hidden.
    Returns nothing. The built-in tracking plugin ends the MLflow run with its status here.
    """
