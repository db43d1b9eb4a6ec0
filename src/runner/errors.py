"""Exceptions the CLI turns into one clear line instead of a traceback."""

from __future__ import annotations


class RunnerError(Exception):
    """Base class for every error the runner reports to a user as a single line."""


class InputError(RunnerError):
    """Bad user input: unknown name, invalid params, missing data file, malformed registry.

    Raised before or during ``runner_prepare`` it means *no MLflow run is created*: the user fixes
    the input and runs again, and the tracking store holds no half-made run.
    """


class PluginError(RunnerError):
    """A plugin could not be loaded or broke the hook contract."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (SIGINT) or SIGTERM; ``run_id`` is the run ended ``KILLED``.

    A ``KeyboardInterrupt``, so code that stops on Ctrl-C stops on it too. ``run_id`` is
    ``None`` when the interrupt came before the MLflow run existed.
    """

    def __init__(self, run_id: str | None = None, signal_name: str = "SIGINT") -> None:
        super().__init__(signal_name)
        self.run_id = run_id
        self.signal_name = signal_name
