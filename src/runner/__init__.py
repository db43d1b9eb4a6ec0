"""runner: a plugin-architecture experiment runner on MLflow.

Plugin authors need only what this module exports::

    from runner import ExperimentType, InputError, MetricSpec, RunContext, hookimpl
"""

from runner.context import RunContext
from runner.errors import InputError, RunnerError
from runner.experiment_type import ExperimentType, MetricSpec
from runner.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = [
    "ExperimentType",
    "InputError",
    "MetricSpec",
    "RunContext",
    "RunnerError",
    "__version__",
    "hookimpl",
]
