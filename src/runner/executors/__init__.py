"""Where a sweep's points run: ``local`` (this machine's processes, the default) or ``ray``."""

from __future__ import annotations

from typing import Any

from runner.errors import InputError
from runner.executors.base import Executor, ExecutorStats, PointTask, run_point

EXECUTORS = ("local", "ray")


def make_executor(
    name: str, *, parallel: int | None = None, ray_address: str | None = None,
    ray_runtime_env: dict[str, Any] | None = None,
) -> Executor:
    """The executor called ``name``; ``parallel`` caps its workers."""
    if name == "local":
        from runner.executors.local import LocalExecutor

        if ray_address or ray_runtime_env:
            raise InputError("--ray-address and --ray-runtime-env need --executor ray")
        return LocalExecutor(parallel or 1)
    if name == "ray":
        from runner.executors.ray import RayExecutor

        return RayExecutor(parallel, address=ray_address, runtime_env=ray_runtime_env)
    raise InputError(f"unknown executor {name!r} (known: {', '.join(EXECUTORS)})")


__all__ = ["EXECUTORS", "Executor", "ExecutorStats", "PointTask", "make_executor", "run_point"]
