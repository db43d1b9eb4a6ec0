"""runner: a plugin-architecture experiment runner on MLflow.

Users call the same functions the ``runner`` command does (:mod:`runner.api`)::

    import runner
    result = runner.run("ml-baseline", C=0.3)

Plugin authors need only the rest of what this module exports::

    from runner import ExperimentType, InputError, MetricSpec, RunContext, hookimpl
"""

__version__ = "0.1.0"

from runner.api import (  # noqa: E402 - __version__ first: modules below read it
    RunFailed,
    RunResult,
    compare,
    experiment_types,
    experiments,
    reproduce,
    run,
    show,
    sweep,
)
from runner.context import RunContext  # noqa: E402
from runner.errors import InputError, RunnerError  # noqa: E402
from runner.experiment_type import NON_NEGATIVE, UNIT_INTERVAL, ExperimentType, MetricSpec  # noqa: E402
from runner.hookspecs import hookimpl  # noqa: E402

__all__ = [
    "NON_NEGATIVE",
    "UNIT_INTERVAL",
    "ExperimentType",
    "InputError",
    "MetricSpec",
    "RunContext",
    "RunFailed",
    "RunResult",
    "RunnerError",
    "__version__",
    "compare",
    "experiment_types",
    "experiments",
    "hookimpl",
    "reproduce",
    "run",
    "show",
    "sweep",
]
