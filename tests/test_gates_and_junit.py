"""`runner run --fail-under` and `--junit`: a run as a gate and a report a CI job can use."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from runner import InputError
from runner import hookimpl
from runner.cli import cli
from runner.gates import parse_thresholds, unmet
from runner.lifecycle import NO_CACHE_ENV, new_context


def test_thresholds_parse_and_fail_only_when_under_or_missing():
    assert parse_thresholds(["pass_rate=0.9", "accuracy = 0.5"]) == {"pass_rate": 0.9, "accuracy": 0.5}
    for bad in ("pass_rate", "pass_rate=high", "=0.3", "x=nan"):
        with pytest.raises(InputError, match="--fail-under expects METRIC=NUMBER"):
            parse_thresholds([bad])
    assert unmet({"pass_rate": 0.9}, {"pass_rate": 0.9}) == []
    assert unmet({"pass_rate": 0.85}, {"pass_rate": 0.9}) == ["pass_rate = 0.85 is under 0.9"]
    assert "logged no such metric" in unmet({}, {"pass_rate": 0.9})[0]


@pytest.fixture
def cli_run(make_plugins, tracking_uri, monkeypatch):
    monkeypatch.setattr("runner.cli._plugins", make_plugins())

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["run", "toy", *args, "--tracking-uri", tracking_uri])

    return invoke


def test_fail_under_exits_1_when_unmet_and_0_when_met(cli_run):
    ok = cli_run("--set", "lr=0.1", "--fail-under", "accuracy=0.8")
    assert ok.exit_code == 0, ok.output
    under = cli_run("--set", "lr=0.3", "--fail-under", "accuracy=0.8")
    assert under.exit_code == 1
    assert "error: --fail-under: accuracy = 0.7 is under 0.8" in under.stderr
    repeated = cli_run("--set", "lr=0.3", "--repeat", "2", "--fail-under", "accuracy=0.8")
    assert repeated.exit_code == 1 and "accuracy = 0.7" in repeated.stderr  # the mean is gated
    bad = cli_run("--fail-under", "accuracy")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1


def test_junit_report_counts_items_and_failures(cli_run, tmp_path):
    report = tmp_path / "items.xml"
    # the toy scores item i at 1 - lr + i/100 and checks accuracy >= 0.8: a, b, c fail
    done = cli_run("--set", "lr=0.23", "--set", "note=a,b,c,d,e,f", "--junit", str(report))
    assert done.exit_code == 0, done.output
    assert "wrote 6 test case(s)" in done.stderr
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite.get("tests") == "6" and suite.get("failures") == "3"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["a", "b", "c", "d", "e", "f"]
    failed = {name: case.find("failure").get("message") for name, case in cases.items()
              if case.find("failure") is not None}
    assert failed == {"a": "accuracy 0.77 < 0.8", "b": "accuracy 0.78 < 0.8",
                      "c": "accuracy 0.79 < 0.8"}
    assert cases["d"].find("system-out").text == "d at lr 0.23"


def test_no_cache_flag_reaches_the_run_context(make_plugins, monkeypatch):
    from runner.config import resolve
    from runner.registry import Registry

    resolved = resolve("toy", plugins=make_plugins(), registry=Registry())
    assert new_context(resolved, "sqlite:///x.db").use_cache is True
    assert new_context(resolved, "sqlite:///x.db", use_cache=False).use_cache is False
    monkeypatch.setenv(NO_CACHE_ENV, "1")
    assert new_context(resolved, "sqlite:///x.db").use_cache is False


class SeesCache:
    """Tags each run with what ``ctx.use_cache`` said."""

    @hookimpl
    def runner_log(self, ctx):  # type: ignore[no-untyped-def]
        ctx.set_tag("saw.use_cache", str(ctx.use_cache))


def test_no_cache_reaches_every_point_of_a_sweep_and_a_repeat(make_plugins, tracking_uri):
    import os

    from mlflow import MlflowClient

    from runner.api import run, sweep

    plugins = make_plugins(("sees", SeesCache()))
    swept = sweep("toy", {"lr": [0.1, 0.2]}, use_cache=False, tracking_uri=tracking_uri,
                  plugins=plugins)
    repeated = run("toy", repeat=2, use_cache=False, steps=1, tracking_uri=tracking_uri,
                   plugins=plugins)
    cached = run("toy", steps=2, tracking_uri=tracking_uri, plugins=plugins)
    client = MlflowClient(tracking_uri)
    seen = [client.get_run(o.run_id).data.tags["saw.use_cache"]
            for o in [*swept.outcomes, *repeated.repeats, cached]]
    assert seen == ["False", "False", "False", "False", "True"]
    assert NO_CACHE_ENV not in os.environ  # set only while the sweep ran
