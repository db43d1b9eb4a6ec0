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

    All implementations are called; returns nothing. An exception ends the run ``FAILED`` with
    what was recorded so far kept.
    """


@hookspec
def runner_evaluate(ctx: RunContext) -> None:
    """Compute the run's final metrics from what ``runner_execute`` produced.

    :param ctx: the run context; record metrics with ``ctx.log_metric``/``ctx.log_metrics``.

    All implementations are called; returns nothing.
    """


@hookspec
def runner_log(ctx: RunContext) -> None:
    """Hand the run's outputs to the core: models, figures, tables, text artifacts.

    :param ctx: the run context; use ``ctx.log_model``, ``ctx.log_figure``, ``ctx.log_table``,
        ``ctx.log_text``, ``ctx.log_artifact``.

    All implementations are called; returns nothing. The built-in tracking plugin wraps this
    phase and writes everything to MLflow after the other implementations ran.
    """


@hookspec
def runner_finish(ctx: RunContext, error: BaseException | None) -> None:
    """Called once after the run, whether it finished, failed or was interrupted.

    :param ctx: the run context; ``ctx.run_id`` is ``None`` when no MLflow run was created.
    :param error: the exception that ended the run early, or ``None`` on success
        (``KeyboardInterrupt`` means the user stopped it).

    All implementations are called; exceptions raised here are reported, never hidden.
    Returns nothing. The built-in tracking plugin ends the MLflow run with its status here.
    """
