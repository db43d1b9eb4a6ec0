"""The ``runner`` command line. Heavy libraries load only inside commands that run something."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from runner.errors import RunnerError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(func: F) -> F:
    """Report a ``RunnerError`` as ``error: ...`` on stderr and exit 2, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RunnerError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


registry_option = click.option(
    "--registry", "registry_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="registry file (default: $RUNNER_REGISTRY or ./registry.yaml)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="runner")
def cli() -> None:
    """Run reproducible, comparable experiments on MLflow through plugins."""


@cli.command("plugins")
@json_option
@click.option("--all", "show_all", is_flag=True, help="include built-in plugins")
@one_line_errors
def plugins_command(as_json: bool, show_all: bool) -> None:
    """List plugins: distribution, version, experiment types, hooks and status."""
    from runner.plugins import load_plugins
    from runner.views import print_json, print_table

    infos = [i for i in load_plugins().infos.values() if show_all or not i.builtin]
    if as_json:
        print_json([info.as_dict() for info in infos])
        return
    print_table(
        "Plugins",
        ["name", "distribution", "experiment types", "hooks", "status"],
        [
            (i.name, f"{i.dist or '-'} {i.version or ''}".strip(), ", ".join(i.types),
             ", ".join(i.hooks), i.status)
            for i in infos
        ],
    )


@cli.command("list")
@json_option
@registry_option
@one_line_errors
def list_command(as_json: bool, registry_path: Path | None) -> None:
    """List the named experiments in registry.yaml."""
    from runner.registry import load_registry
    from runner.views import print_json, print_table

    entries = load_registry(registry_path).experiments
    rows = [
        {"name": name, "type": e.type, "experiment": e.experiment, "description": e.description}
        for name, e in entries.items()
    ]
    if as_json:
        print_json(rows)
        return
    print_table("Experiments", ["name", "type", "MLflow experiment", "description"],
                [list(row.values()) for row in rows])


@cli.command("show")
@click.argument("name")
@json_option
@registry_option
@one_line_errors
def show_command(name: str, as_json: bool, registry_path: Path | None) -> None:
    """Show params (type, default, description, resolved value) and metrics of NAME."""
    from runner.describe import describe

    description = describe(name, registry_path)
    if as_json:
        from runner.views import print_json

        print_json(description)
    else:
        from runner.describe import print_description

        print_description(description)


@cli.command("run")
@click.argument("name")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="override a param (dotted keys for nested params); repeatable")
@click.option("--run-name", default=None, help="MLflow run name")
@click.option("--experiment-name", default=None, help="MLflow experiment (default: the entry's)")
@click.option("--tracking-uri", default=None,
              help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)")
@json_option
@registry_option
@one_line_errors
def run_command(
    name: str, overrides: tuple[str, ...], run_name: str | None, experiment_name: str | None,
    tracking_uri: str | None, as_json: bool, registry_path: Path | None,
) -> None:
    """Run NAME: a registry entry, or an experiment type with its defaults."""
    from runner.plugins import load_plugins
    from runner.registry import load_registry
    from runner.runs import execute, resolve

    plugins = load_plugins()
    resolved = resolve(name, overrides, plugins=plugins, registry=load_registry(registry_path),
                       experiment_name=experiment_name)
    try:
        outcome = execute(resolved, plugins, tracking_uri=tracking_uri, run_name=run_name,
                          show_progress=not as_json)
    except KeyboardInterrupt:
        click.echo("interrupted: the run was ended KILLED", err=True)
        sys.exit(130)
    if as_json:
        from runner.views import print_json

        print_json(outcome.as_dict())
    else:
        from runner.views import format_metric, print_table

        click.echo(f"run {outcome.run_id} in experiment {outcome.experiment!r}: {outcome.status}")
        print_table(None, ["metric", "value"],
                    [(k, format_metric(v)) for k, v in sorted(outcome.metrics.items())])
    if outcome.status != "FINISHED":
        click.echo(f"error: run {outcome.run_id} {outcome.status}: {outcome.error}", err=True)
        sys.exit(1)


@cli.command("ui")
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--tracking-uri", default=None, help="store to show (default: as `runner run`)")
def ui_command(port: int, host: str, tracking_uri: str | None) -> None:
    """Start the MLflow UI on the same store `runner run` writes to."""
    from runner.runs import default_tracking_uri

    uri = tracking_uri or default_tracking_uri()
    click.echo(f"MLflow UI for {uri} at http://{host}:{port}", err=True)
    args = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
            "--port", str(port), "--host", host]
    os.execv(sys.executable, args)


@cli.command("new-plugin")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="where to create the package folder")
@one_line_errors
def new_plugin_command(name: str, directory: Path) -> None:
    """Write a pip-installable plugin package skeleton for experiment type NAME."""
    from runner.scaffold import write_plugin

    folder = write_plugin(name, directory)
    click.echo(f"created {folder}; install it with: pip install -e {folder}")


def main() -> None:
    """Console-script entry point."""
    cli()
