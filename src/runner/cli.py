"""The ``runner`` command line. Heavy libraries load only inside commands that run something."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from runner.errors import RunnerError
from runner.secrets import redact

#: Set to see the traceback of an unexpected error instead of its one line.
DEBUG_ENV = "RUNNER_DEBUG"


class RunnerGroup(click.Group):
    """The ``runner`` group: every command, the core's and plugins' alike, reports errors the
    same way — a :class:`RunnerError` is one ``error:`` line and exit 2, anything unexpected is
    one line and exit 1 (the traceback with ``$RUNNER_DEBUG`` set)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RunnerError as exc:
            click.echo(redact(f"error: {exc}"), err=True)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - anything a RunnerError did not already explain
            if os.environ.get(DEBUG_ENV):
                raise
            message = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
            click.echo(redact(f"error: {message} (set {DEBUG_ENV}=1 for the traceback)"), err=True)
            sys.exit(1)


def _default_tracking_uri(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    from runner.config import default_tracking_uri

    return value or default_tracking_uri()


tracking_option = click.option(
    "--tracking-uri", envvar="MLFLOW_TRACKING_URI", callback=_default_tracking_uri,
    help="MLflow tracking URI  [default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db]",
)
registry_option = click.option(
    "--registry", "registry_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="registry file (default: $RUNNER_REGISTRY or ./registry.yaml)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")


@click.group(cls=RunnerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="runner-core")
def cli() -> None:
    """Run reproducible, comparable experiments on MLflow through plugins."""


@cli.command("plugins")
@json_option
@click.option("--all", "show_all", is_flag=True, help="include built-in plugins")
def plugins_command(as_json: bool, show_all: bool) -> None:
    """List plugins: distribution, version, experiment types, hooks and status."""
    from runner.api import experiment_types
    from runner.views import print_json, print_table

    infos = experiment_types(builtin=show_all, plugins=cli_plugins())
    if as_json:
        print_json(infos)
        return
    print_table(
        "Plugins",
        ["name", "distribution", "experiment types", "hooks", "status"],
        [
            (i["name"], f"{i['dist'] or '-'} {i['version'] or ''}".strip(),
             ", ".join(i["experiment_types"]), ", ".join(i["hooks"]), i["status"])
            for i in infos
        ],
    )


@cli.command("list")
@json_option
@registry_option
def list_command(as_json: bool, registry_path: Path | None) -> None:
    """List the named experiments in registry.yaml."""
    from runner.api import experiments
    from runner.views import print_json, print_table

    rows = experiments(registry=registry_path, plugins=cli_plugins())
    if as_json:
        print_json(rows)
        return
    print_table("Experiments", ["name", "type", "MLflow experiment", "description", "status"],
                [(r["name"], r["type"], r["experiment"], r["description"], r["status"])
                 for r in rows])
    unknown = [row["name"] for row in rows if row["status"] != "ok"]
    if unknown:
        click.echo(f"warning: {', '.join(unknown)}: experiment type not installed "
                   "(`runner plugins` lists what is)", err=True)


@cli.command("show")
@click.argument("name")
@json_option
@registry_option
def show_command(name: str, as_json: bool, registry_path: Path | None) -> None:
    """Show params (type, default, description, resolved value) and metrics of NAME."""
    from runner.api import show

    description = show(name, registry=registry_path, plugins=cli_plugins())
    if as_json:
        from runner.views import print_json

        print_json(description)
    else:
        from runner.describe import print_description

        print_description(description)


no_cache_option = click.option(
    "--no-cache", is_flag=True,
    help="recompute what plugins would replay from a cache (LLM responses); sets "
         "$RUNNER_NO_CACHE for the run's workers")
repeat_option = click.option(
    "--repeat", default=1, show_default=True, type=click.IntRange(1, 1000),
    help="run each point with seeds seed, seed+1, ... under one parent that logs each "
         "metric's mean, std and 95% CI")


@cli.command("run")
@click.argument("name")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="override a param (dotted keys for nested params); repeatable")
@click.option("--run-name", default=None, help="MLflow run name")
@click.option("--experiment-name", default=None, help="MLflow experiment (default: the entry's)")
@repeat_option
@click.option("--fail-under", "fail_under", multiple=True, metavar="METRIC=VALUE",
              help="exit 1 when METRIC (its mean with --repeat) is under VALUE, e.g. "
                   "pass_rate=0.9; repeatable")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="write the run's items as a JUnit XML report to this file")
@no_cache_option
@tracking_option
@json_option
@registry_option
def run_command(
    name: str, overrides: tuple[str, ...], run_name: str | None, experiment_name: str | None,
    repeat: int, fail_under: tuple[str, ...], junit_path: Path | None, no_cache: bool,
    tracking_uri: str, as_json: bool, registry_path: Path | None,
) -> None:
    """Run NAME: a registry entry, or an experiment type with its defaults."""
    from runner.api import run
    from runner.gates import parse_thresholds, unmet

    thresholds = parse_thresholds(fail_under)
    try:
        result = run(name, overrides=overrides, run_name=run_name,
                     experiment_name=experiment_name, tracking_uri=tracking_uri,
                     registry=registry_path, repeat=repeat, use_cache=not no_cache,
                     progress=not as_json, on_outcome=None if as_json else _echo_outcome,
                     plugins=cli_plugins())
    except KeyboardInterrupt as stop:
        run_id = getattr(stop, "run_id", None)
        click.echo(f"interrupted: run {run_id} was ended KILLED" if run_id
                   else "interrupted before the run was created: nothing was recorded", err=True)
        sys.exit(130)
    if as_json:
        from runner.views import print_json

        print_json(result.as_dict())
    else:
        from runner.views import print_result

        print_result(result)
    if junit_path is not None:
        from runner.junit import write_report

        ids = [o.run_id for o in result.repeats] or [result.run_id]
        cases = write_report(junit_path, tracking_uri, ids)
        click.echo(f"wrote {cases} test case(s) to {junit_path}", err=True)
    if not result.ok:
        click.echo(f"error: run {result.run_id} {result.status}: {result.error}", err=True)
        sys.exit(1)
    gated = result.metrics if not result.repeats else {
        k.removesuffix("_mean"): v for k, v in result.metrics.items() if k.endswith("_mean")}
    failures = unmet(gated, thresholds)
    for line in failures:
        click.echo(f"error: --fail-under: {line}", err=True)
    if failures:
        sys.exit(1)


def _echo_outcome(point: Any, outcome: Any) -> None:
    """One line per point as it ends, on stderr (sweeps and repeats)."""
    note = {"SKIPPED": " (already done)", "FAILED": f": {outcome.error}"}.get(outcome.status, "")
    click.echo(f"{outcome.status:<8} {point.label} -> run {outcome.run_id}{note}", err=True)


@cli.command("sweep")
@click.argument("name")
@click.option("--grid", "grid", multiple=True, metavar="KEY=V1,V2,...",
              help="values to sweep for one param (YAML values, comma-separated); repeatable")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="fixed override")
@click.option("--parallel", default=None, type=click.IntRange(1, 4096),
              help="grid points run at once  [default: 1 with --executor local, the cluster's "
                   "CPUs with --executor ray]")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: worker processes on this machine; ray: Ray actors on a cluster")
@click.option("--ray-address", default=None,
              help="Ray cluster to run on  [default: $RAY_ADDRESS, else a local cluster started "
                   "for the sweep]")
@click.option("--ray-runtime-env", default=None, metavar="JSON|FILE",
              help="Ray runtime_env for the workers (pip packages, working_dir, env_vars), as "
                   "JSON or a JSON/YAML file")
@repeat_option
@click.option("--force", is_flag=True, help="re-run points that already have a FINISHED run")
@click.option("--dry-run", is_flag=True, help="print the expanded grid and stop")
@click.option("--experiment-name", default=None, help="MLflow experiment (default: the entry's)")
@no_cache_option
@tracking_option
@json_option
@registry_option
def sweep_command(
    name: str, grid: tuple[str, ...], overrides: tuple[str, ...], parallel: int | None,
    executor: str, ray_address: str | None, ray_runtime_env: str | None, repeat: int,
    force: bool, dry_run: bool, experiment_name: str | None, no_cache: bool, tracking_uri: str,
    as_json: bool, registry_path: Path | None,
) -> None:
    """Run NAME over a grid of params: one parent run, a nested child run per point."""
    from runner.views import print_json, print_table

    if dry_run:
        from runner.registry import load_registry
        from runner.sweeps import plan

        points = plan(name, grid, plugins=cli_plugins(), registry=load_registry(registry_path),
                      overrides=overrides, experiment_name=experiment_name, repeat=repeat)
        keys = list(points[0].overrides)
        if as_json:
            print_json([p.overrides for p in points])
        else:
            print_table(f"{len(points)} grid points of {name}", ["#", *keys],
                        [(i + 1, *p.overrides.values()) for i, p in enumerate(points)])
        return
    from runner.api import sweep
    from runner.sweeps import load_runtime_env

    runtime_env = load_runtime_env(ray_runtime_env) if ray_runtime_env else None
    try:
        result = sweep(name, grid, overrides=overrides, parallel=parallel, repeat=repeat,
                       executor=executor, force=force, tracking_uri=tracking_uri,
                       experiment_name=experiment_name, registry=registry_path,
                       ray_address=ray_address, ray_runtime_env=runtime_env,
                       use_cache=not no_cache, on_outcome=None if as_json else _echo_outcome,
                       plugins=cli_plugins())
    except KeyboardInterrupt:
        click.echo("interrupted: re-run the same command to finish the missing points", err=True)
        sys.exit(130)
    if result.ended_stale and not as_json:
        click.echo(f"marked {len(result.ended_stale)} run(s) of a killed earlier sweep FAILED "
                   f"(their process was gone): {', '.join(result.ended_stale)}", err=True)
    rows = result.rows()
    if as_json:
        print_json({"parent_run_id": result.parent_run_id, "metric": result.metric,
                    "best_run_id": result.best.run_id if result.best else None,
                    "executor": result.executor, "ranked": rows,
                    "runs": [{"params": p.overrides, **o.as_dict()} for p, o in result.ranked()]})
    else:
        click.echo(f"sweep parent run {result.parent_run_id}; best: "
                   f"{result.best.run_id if result.best else '-'}")
        from runner.views import print_sweep_table

        print_sweep_table(name, result.metric, rows)
    if any(o.status not in {"FINISHED", "SKIPPED"} for o in result.outcomes):
        click.echo("error: some grid points did not finish; see the table above", err=True)
        sys.exit(1)


@cli.command("server", context_settings={"ignore_unknown_options": True})
@click.option("--backend-store-uri", required=True, metavar="URI",
              help="the database runs are stored in: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB "
                   "(or mysql://..., sqlite:///PATH)")
@click.option("--artifacts-destination", required=True, metavar="PATH|URI",
              help="where the server keeps artifacts: a folder, or s3://..., gs://...")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (0.0.0.0: every interface)")
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="server worker processes  [default: MLflow's]")
@click.option("--app-server", type=click.Choice(["gunicorn", "uvicorn"]), default="gunicorn",
              show_default=True,
              help="HTTP server: gunicorn answers tracking calls faster; uvicorn (MLflow's "
                   "default) also serves MLflow's AI gateway, jobs and OTLP endpoints")
@click.argument("mlflow_args", nargs=-1, type=click.UNPROCESSED)
def server_command(backend_store_uri: str, artifacts_destination: str, host: str, port: int,
                   workers: int | None, app_server: str, mlflow_args: tuple[str, ...]) -> None:
    """A team's tracking server: `mlflow server` with artifacts proxied by the server.

    Creates the database (PostgreSQL) and MLflow's schema once, then runs `mlflow server
    --backend-store-uri URI --artifacts-destination DEST --serve-artifacts`; anything after
    `--` is passed to it. Clients then use --tracking-uri http://HOST:PORT (or
    MLFLOW_TRACKING_URI) and need no storage credentials.
    """
    from runner.server import serve

    click.echo(f"MLflow tracking server on http://{host}:{port} (backend {backend_store_uri.split('@')[-1]}, "
               f"artifacts {artifacts_destination})", err=True)
    serve(backend_store_uri, artifacts_destination, host, port, workers, mlflow_args, app_server)


@cli.command("compare")
@click.argument("run_ids", nargs=-1)
@click.option("--experiment", default=None, help="compare the top runs of this MLflow experiment")
@click.option("--top", default=3, show_default=True, help="how many runs with --experiment")
@click.option("--metric", default=None, help="rank by this metric with --experiment")
@click.option("--markdown", "as_markdown", is_flag=True, help="print a Markdown table")
@tracking_option
@json_option
def compare_command(
    run_ids: tuple[str, ...], experiment: str | None, top: int, metric: str | None,
    as_markdown: bool, tracking_uri: str, as_json: bool,
) -> None:
    """Compare runs: differing params, metrics with deltas vs the first, and for runs scored
    on the same items, each score's paired difference (95% CI, p-value, verdict)."""
    from runner.api import compare
    from runner.comparison import markdown, rows

    comparison = compare(run_ids, experiment=experiment, metric=metric, top=top,
                         tracking_uri=tracking_uri, plugins=cli_plugins())
    if as_json:
        from runner.views import print_json

        print_json(comparison.as_dict())
    elif as_markdown:
        click.echo(markdown(comparison))
    else:
        from runner.views import print_table

        header, body = rows(comparison)
        print_table(None, header, body)


@cli.command("reproduce")
@click.argument("run_id")
@click.option("--tolerance", default=0.0, show_default=True,
              help="largest allowed |difference| of a deterministic metric")
@tracking_option
@json_option
def reproduce_command(run_id: str, tolerance: float, tracking_uri: str, as_json: bool) -> None:
    """Run RUN_ID again from its logged config; report drift and metric differences."""
    from runner.api import reproduce
    from runner.views import print_json, print_table

    shown: list[object] = []

    def show_drift(drift):  # type: ignore[no-untyped-def]
        for d in drift:
            if not as_json and d not in shown:
                click.echo(f"drift: {d.what}: {d.original} -> {d.now}", err=True)
                shown.append(d)

    result = reproduce(run_id, tracking_uri=tracking_uri, tolerance=tolerance,
                       on_drift=show_drift, plugins=cli_plugins())
    show_drift(result.drift)  # what only the new run could show: data digests, derived params
    if as_json:
        print_json(result.as_dict())
    else:
        click.echo(f"reproduced {run_id} as run {result.outcome.run_id}: {result.outcome.status}")
        print_table(None, ["metric", "original", "new", "difference", "checked"],
                    [(m.name, f"{m.original:.6g}", "-" if m.new is None else f"{m.new:.6g}",
                      "-" if m.difference is None else f"{m.difference:+.3g}", "yes" if m.checked else "no (timing)")
                     for m in result.metrics])
    if not result.reproduced:
        click.echo(f"error: run {run_id} did not reproduce within tolerance {tolerance}", err=True)
        sys.exit(1)


@cli.command("runs")
@click.option("--stale", "only_stale", is_flag=True,
              help="only runs of this host whose process is gone (killed hard)")
@click.option("--fix", is_flag=True, help="mark the stale runs FAILED, saying why")
@click.option("--experiment", default=None, help="only this MLflow experiment")
@tracking_option
@json_option
def runs_command(only_stale: bool, fix: bool, experiment: str | None, tracking_uri: str,
                 as_json: bool) -> None:
    """List RUNNING runs and whether their process is alive; --fix ends the stale ones FAILED."""
    from runner.liveness import is_stale, stale_reason
    from runner.store import mlflow_store, names
    from runner.views import print_json, print_table

    rows = []
    for run in mlflow_store.running_runs(tracking_uri, experiment):
        stale = is_stale(run.tags)
        if only_stale and not stale:
            continue
        if fix and stale:
            mlflow_store.mark_failed(tracking_uri, run.run_id, stale_reason(run.tags))
        process = "gone" if stale else (
            "alive" if run.tags.get(names.HOST_TAG) else "unknown (not started by runner)")
        rows.append({"run_id": run.run_id, "run_name": run.run_name,
                     "host": run.tags.get(names.HOST_TAG), "pid": run.tags.get(names.PID_TAG),
                     "process": process, "status": "FAILED" if fix and stale else "RUNNING"})
    if as_json:
        print_json(rows)
        return
    print_table("Running runs" if not only_stale else "Stale runs",
                ["run", "name", "host", "pid", "process", "status"],
                [(r["run_id"], r["run_name"], r["host"], r["pid"], r["process"], r["status"])
                 for r in rows])
    stale_left = [r for r in rows if r["process"] == "gone" and r["status"] == "RUNNING"]
    if stale_left:
        click.echo(f"{len(stale_left)} stale run(s): `runner runs --stale --fix` marks them FAILED",
                   err=True)


@cli.command("ui")
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@tracking_option
def ui_command(port: int, host: str, tracking_uri: str) -> None:
    """Start the MLflow UI on the same store `runner run` writes to."""
    import importlib.util
    import socket

    from runner.errors import InputError

    if importlib.util.find_spec("mlflow") is None:
        raise InputError("the MLflow UI needs mlflow: pip install mlflow")
    if tracking_uri.startswith(("http://", "https://")):
        raise InputError(f"{tracking_uri} is a tracking server, which serves the UI itself: "
                         "open it in a browser")
    with socket.socket() as probe:
        if probe.connect_ex((host, port)) == 0:
            raise InputError(f"port {port} on {host} is already in use: pick another with --port")
    click.echo(f"MLflow UI for {tracking_uri} at http://{host}:{port}", err=True)
    args = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", tracking_uri,
            "--port", str(port), "--host", host]
    os.execv(sys.executable, args)


@cli.command("new-plugin")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="where to create the package folder")
def new_plugin_command(name: str, directory: Path) -> None:
    """Write a pip-installable plugin package skeleton for experiment type NAME."""
    from runner.scaffold import write_plugin

    folder = write_plugin(name, directory)
    click.echo(f"created {folder}; install it with: pip install -e {folder}")


_plugins: Any = None


def cli_plugins() -> Any:
    """The plugins of this command-line process, loaded once."""
    global _plugins
    if _plugins is None:
        from runner.plugins import load_plugins

        _plugins = load_plugins()
    return _plugins


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM (``timeout``, CI cancellation, container stops) stops a run like Ctrl-C."""
    from runner.errors import Interrupted

    raise Interrupted(signal_name="SIGTERM")


def main() -> None:
    """Console-script entry point: plugins add their commands, then the group runs."""
    import gc
    import signal

    from runner.plugins import register_commands

    signal.signal(signal.SIGTERM, _terminate)
    register_commands(cli_plugins(), cli)
    try:
        cli()
    finally:
        # Everything is written; spare the exit a full garbage collection of the heap MLflow,
        # torch and pandas built (~1 s). atexit handlers still run.
        gc.freeze()
