"""One run: prepare -> execute -> evaluate -> log, then finish — and what happens on failure.

The policy for partial results lives here, not in plugins: when ``runner_execute`` or
``runner_evaluate`` fails or is interrupted after the MLflow run exists, the later phases are
still called, with ``ctx.partial`` set, so what was produced so far is scored and logged
through the same hooks observers see. The run then ends ``FAILED`` (``KILLED`` for an
interrupt) with the first error. Every phase that ran is seen once by every plugin.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import TYPE_CHECKING

from runner.context import CoreState, RunContext
from runner.errors import Interrupted, PluginError
from runner.liveness import new_workdir
from runner.naming import default_run_name
from runner.store.names import FAILED_PHASE_TAG, PARTIAL_ERROR_TAG

if TYPE_CHECKING:
    import pluggy

    from runner.config import ResolvedRun

PHASES = ("runner_prepare", "runner_execute", "runner_evaluate", "runner_log")
#: Phases called on partial results after a failure in the phase before them.
PARTIAL_PHASES = ("runner_evaluate", "runner_log")

FINISHED, FAILED, KILLED, SKIPPED = "FINISHED", "FAILED", "KILLED", "SKIPPED"
#: Set (to anything) by ``--no-cache``: runs recompute what plugins would take from a cache.
NO_CACHE_ENV = "RUNNER_NO_CACHE"


def status_of(error: BaseException | None) -> str:
    """``FINISHED`` on success, ``KILLED`` on an interrupt, ``FAILED`` on any other exception."""
    if error is None:
        return FINISHED
    return KILLED if isinstance(error, KeyboardInterrupt) else FAILED


def new_context(
    resolved: ResolvedRun, tracking_uri: str, *, run_name: str | None = None,
    show_progress: bool = False, tags: Mapping[str, str] | None = None,
    skip_if_done: bool = False, probe_only: bool = False, use_cache: bool | None = None,
) -> RunContext:
    """A context for one run of ``resolved``, with its own temporary folder.

    ``use_cache`` ``None``: caches are used unless ``$RUNNER_NO_CACHE`` is set (what
    ``--no-cache`` sets, so sweep workers started from that process inherit it).
    """
    config = resolved.config
    seed = getattr(resolved.params, "seed", None)
    ctx: RunContext = RunContext(
        experiment_type=resolved.experiment_type,
        params=resolved.params,
        config=config,
        experiment_name=resolved.experiment_name,
        tracking_uri=tracking_uri,
        workdir=new_workdir(),
        run_name=run_name or default_run_name(resolved),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        entry_name=resolved.entry_name,
        plugin=resolved.plugin,
        show_progress=show_progress,
        use_cache=not os.environ.get(NO_CACHE_ENV) if use_cache is None else use_cache,
        _core=CoreState(skip_if_done=skip_if_done, probe_only=probe_only),
    )
    ctx._core.recorder.params.update(resolved.logged_params)
    ctx._core.recorder.tags.update(tags or {})
    return ctx


def run_phases(
    resolved: ResolvedRun, manager: pluggy.PluginManager, ctx: RunContext,
    phases: tuple[str, ...] = PHASES,
) -> BaseException | None:
    """Call ``phases`` with the implementation registered, then ``runner_finish``.

    Returns the exception that ended an existing run early (the run is FAILED or KILLED), or
    ``None``; ``ctx.status`` says how the run ended. Raises the exception when no run exists
    (bad input, a probe) and always re-raises ``KeyboardInterrupt`` once the run is recorded.
    """
    implementation = register_implementation(resolved, manager, ctx)
    error: BaseException | None = None
    try:
        try:
            error = _call_phases(manager, ctx, phases)
        except BaseException as exc:  # noqa: BLE001 - a second Ctrl-C while partial results ran
            error = exc
        ctx.status = SKIPPED if ctx._core.done_as else status_of(error)
    finally:
        try:
            if not ctx._core.probe_only:
                if ctx.status is None:
                    ctx.status = status_of(error)
                manager.hook.runner_finish(ctx=ctx, error=error)
        finally:
            manager.unregister(implementation)
            shutil.rmtree(ctx.workdir, ignore_errors=True)
    if isinstance(error, KeyboardInterrupt):
        signal_name = getattr(error, "signal_name", "SIGINT")
        raise Interrupted(ctx.run_id, signal_name) from error
    if error is not None and ctx.run_id is None:
        raise error
    return error


def _call_phases(
    manager: pluggy.PluginManager, ctx: RunContext, phases: tuple[str, ...]
) -> BaseException | None:
    """Each phase in order; after a failure, the partial-results phases (once the run exists)."""
    for index, phase in enumerate(phases):
        try:
            getattr(manager.hook, phase)(ctx=ctx)
            if ctx._core.done_as:  # skip-if-done found a FINISHED twin after prepare
                ctx.run_id = ctx._core.done_as
                return None
        except BaseException as exc:  # noqa: BLE001 - every outcome is recorded, then reported
            ctx.set_tag(FAILED_PHASE_TAG, phase.removeprefix("runner_"))
            if ctx.run_id is not None and phase != "runner_prepare":
                _partial(manager, ctx, [p for p in phases[index + 1:] if p in PARTIAL_PHASES])
            return exc
    return None


def _partial(manager: pluggy.PluginManager, ctx: RunContext, phases: list[str]) -> None:
    """Evaluate and log what a failed run produced; their own errors never hide the first."""
    ctx.partial = True
    for phase in phases:
        try:
            getattr(manager.hook, phase)(ctx=ctx)
        except Exception as exc:  # noqa: BLE001 - recorded as a tag, the first error wins
            ctx.set_tag(PARTIAL_ERROR_TAG, f"{phase}: {type(exc).__name__}: {exc}".splitlines()[0])
            return


def register_implementation(
    resolved: ResolvedRun, manager: pluggy.PluginManager, ctx: RunContext
) -> object:
    """Load the type's implementation and register it for one run; a bad one is a PluginError."""
    exp_type = resolved.experiment_type
    name = f"{exp_type.id}:implementation"
    try:
        implementation = exp_type.load_implementation()
        manager.register(implementation, name=name)
        manager.check_pending()  # a misspelled hook name must not be silently ignored
    except Exception as exc:  # noqa: BLE001 - a plugin that cannot load its code is one line
        if manager.has_plugin(name):
            manager.unregister(name=name)
        shutil.rmtree(ctx.workdir, ignore_errors=True)
        raise PluginError(
            f"plugin {resolved.plugin.name!r}: implementation {exp_type.implementation} is broken: "
            f"{type(exc).__name__}: {exc}".splitlines()[0]
        ) from exc
    return implementation
