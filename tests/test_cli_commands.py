"""Plugins add CLI commands through ``runner_register_commands``; every command, core or plugin,
reports errors the same way; ``--tracking-uri`` defaults the same way everywhere."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from runner import InputError, hookimpl
from runner import cli as cli_module
from runner.plugins import register_commands


class CommandsPlugin:
    """A throwaway plugin that adds three commands."""

    @hookimpl
    def runner_register_commands(self, cli: click.Group) -> None:
        @cli.command("hello")
        @click.argument("name")
        def hello(name: str) -> None:
            """Say hello (added by a plugin)."""
            click.echo(f"hello {name}")

        @cli.command("bad-input")
        def bad_input() -> None:
            raise InputError("that input is wrong")

        @cli.command("crash")
        def crash() -> None:
            raise ValueError("disk on fire")


class BrokenCommandsPlugin:
    @hookimpl
    def runner_register_commands(self, cli: click.Group) -> None:
        raise RuntimeError("cannot build my commands")


@pytest.fixture
def plugin_cli(make_plugins, monkeypatch) -> Iterator[click.Group]:
    plugins = make_plugins(("commands", CommandsPlugin()), ("broken-commands", BrokenCommandsPlugin()))
    monkeypatch.setattr(cli_module, "_plugins", plugins)
    before = set(cli_module.cli.commands)
    register_commands(plugins, cli_module.cli)
    yield cli_module.cli
    for name in set(cli_module.cli.commands) - before:
        del cli_module.cli.commands[name]


def test_plugin_commands_are_listed_and_run(plugin_cli):
    help_text = CliRunner().invoke(plugin_cli, ["--help"]).stdout
    assert "hello" in help_text and "Say hello (added by a plugin)." in help_text
    result = CliRunner().invoke(plugin_cli, ["hello", "world"])
    assert result.exit_code == 0 and result.stdout == "hello world\n"


def test_a_broken_command_hook_marks_its_plugin_broken_and_the_cli_works(plugin_cli):
    infos = cli_module._plugins.infos
    assert infos["broken-commands"].status == (
        "broken: runner_register_commands: RuntimeError: cannot build my commands")
    assert infos["commands"].status == "ok"
    assert CliRunner().invoke(plugin_cli, ["plugins", "--all", "--json"]).exit_code == 0


def test_plugin_command_errors_are_one_line_like_core_commands(plugin_cli, monkeypatch):
    bad = CliRunner().invoke(plugin_cli, ["bad-input"])
    assert (bad.exit_code, bad.stderr) == (2, "error: that input is wrong\n")
    crash = CliRunner().invoke(plugin_cli, ["crash"])
    assert crash.exit_code == 1
    assert crash.stderr == "error: ValueError: disk on fire (set RUNNER_DEBUG=1 for the traceback)\n"
    monkeypatch.setenv("RUNNER_DEBUG", "1")
    debug = CliRunner().invoke(plugin_cli, ["crash"])
    assert isinstance(debug.exception, ValueError)  # the traceback is there to see


def test_ui_on_a_busy_port_is_one_line(tracking_uri):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli_module.cli, ["ui", "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr == f"error: port {port} on 127.0.0.1 is already in use: pick another with --port\n"


@pytest.mark.parametrize("command", ["run", "sweep", "compare", "reproduce", "ui"])
def test_tracking_uri_is_one_option_with_the_env_default(command, tracking_uri, monkeypatch):
    option = next(p for p in cli_module.cli.commands[command].params if p.name == "tracking_uri")
    assert option.envvar == "MLFLOW_TRACKING_URI"
    context = click.Context(cli_module.cli.commands[command])
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking-host:5000")
    assert option.resolve_envvar_value(context) == "http://tracking-host:5000"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert option.process_value(context, None) == f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def test_ui_on_a_tracking_server_says_to_open_it(tracking_uri):
    result = CliRunner().invoke(cli_module.cli, ["ui", "--tracking-uri", "http://tracking-host:5000"])
    assert result.exit_code == 2
    assert result.stderr == ("error: http://tracking-host:5000 is a tracking server, which serves "
                             "the UI itself: open it in a browser\n")
