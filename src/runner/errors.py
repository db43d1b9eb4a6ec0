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
