"""The conformance kit tests itself: a plugin that breaks a rule fails the check named for it.

Each case writes a throwaway plugin and an ``ExperimentTypeContract`` subclass into a pytester
folder and runs pytest on it, so the kit is exercised exactly as a plugin author runs it.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

#: A plugin that keeps every rule; each case below breaks one by replacing a marked line.
PLUGIN = '''
import random
import time  # RULE: imports

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from runner import ExperimentType, MetricSpec, RunContext, hookimpl


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")  # RULE: forbid

    steps: StrictInt = Field(3, ge=1, description="points on the curve")  # RULE: describe
    seed: StrictInt = Field(0, description="random seed")


class Experiment:
    def __init__(self):
        self.values = []

    @hookimpl
    def runner_prepare(self, ctx: RunContext[Params]) -> None:
        import pandas as pd

        frame = pd.DataFrame({"x": [1, 2, 3]})  # RULE: data
        ctx.log_dataset(frame, name="points", source="points.csv")

    @hookimpl
    def runner_execute(self, ctx: RunContext[Params]) -> None:
        rng = random.Random(ctx.params.seed)  # RULE: seed
        for step in range(ctx.params.steps):
            self.values.append(rng.random())
            ctx.log_metric("loss", self.values[-1], step=step)

    @hookimpl
    def runner_evaluate(self, ctx: RunContext[Params]) -> None:
        ctx.log_metric("score", sum(self.values))  # RULE: score
        ctx.log_metric("seconds", time.perf_counter())  # RULE: extra


class KitPlugin:
    @hookimpl
    def runner_register_experiment_types(self, register):
        register(ExperimentType(
            id="kit-type", params=Params, implementation=Experiment,
            experiment_name="kit-experiments", description="a plugin for the kit's own tests",
            metrics=(
                MetricSpec("score", "maximize", "sum of the curve"),
                MetricSpec("loss", "minimize", "a curve", per_step=True, bounds=(0.0, 1.0)),  # RULE: bounds
                MetricSpec("seconds", "minimize", "a clock reading", deterministic=False),
                MetricSpec("declared", "maximize", "only with a flag", condition="never"),  # RULE: declared
            ),
        ))
'''

TESTS = '''
from kit_plugin import KitPlugin
from runner.testing import ExperimentTypeContract


class TestKitType(ExperimentTypeContract):
    experiment_type = "kit-type"
    params = {"steps": 4}
    extra_plugins = (("kit", KitPlugin()),)
    plugin_module = "kit_plugin"
    NOT_APPLICABLE
'''


def _write(pytester: pytest.Pytester, rule: str | None = None, replacement: str = "",
           not_applicable: str = "") -> None:
    """The plugin (with ``rule``'s line replaced) and its contract class (plus a class line)."""
    plugin = PLUGIN
    if rule is not None:
        lines = [replacement if f"# RULE: {rule}" in line else line for line in plugin.splitlines()]
        plugin = "\n".join(lines)
    pytester.makepyfile(kit_plugin=plugin)
    pytester.makepyfile(test_kit_type=TESTS.replace("NOT_APPLICABLE", not_applicable or "pass"))
    pytester.syspathinsert()


def _run(pytester: pytest.Pytester, check: str | None = None) -> pytest.RunResult:
    args = ["-p", "no:cacheprovider", "-ra", "-W", "ignore::DeprecationWarning"]
    return pytester.runpytest_subprocess(*args, *(["-k", check] if check else []))


def test_a_plugin_that_keeps_the_rules_passes_every_check(pytester: pytest.Pytester) -> None:
    _write(pytester)
    result = _run(pytester)
    result.assert_outcomes(passed=10)


@pytest.mark.parametrize(
    ("rule", "replacement", "check", "message"),
    [
        ("forbid", "    model_config = ConfigDict()", "test_params_schema_forbids_unknown_keys",
         "params models without extra='forbid': Params"),
        ("describe", "    steps: StrictInt = Field(3, ge=1)", "test_every_param_has_default_and_description",
         "Params.steps: no description"),
        ("extra", "        ctx.log_metric('seconds', 0.0); ctx.log_metric('undeclared', 1.0)",
         "test_run_logs_declared_metrics",
         "metrics logged but not declared: undeclared"),
        ("score", "        pass", "test_run_logs_declared_metrics", "declared metrics not logged: score"),
        ("bounds", '                MetricSpec("loss", "minimize", "a curve", per_step=True, bounds=(0.0, 0.5)),',
         "test_logged_values_within_declared_bounds", "outside (0.0, 0.5)"),
        ("seed", "        rng = random.Random()", "test_same_seed_same_metrics",
         "deterministic metrics differ"),
        ("data", "        frame = pd.DataFrame({'x': [time.time()]})", "test_reproduce_reports_no_drift",
         "input points"),
        ("score", "        ctx.log_metric('score', len(ctx.tracking_uri))", "test_config_json_alone_reruns_it",
         "deterministic metrics differ"),
    ],
)
def test_a_plugin_breaking_a_rule_fails_the_named_check(
    pytester: pytest.Pytester, rule: str, replacement: str, check: str, message: str
) -> None:
    _write(pytester, rule, replacement)
    result = _run(pytester, check)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"FAILED *::TestKitType::{check}*"])
    assert message in result.stdout.str()


def test_a_heavy_import_in_the_plugin_module_fails_the_import_check(pytester: pytest.Pytester) -> None:
    _write(pytester, "imports", "import time\nimport numpy")
    check = "test_plugin_module_imports_no_heavy_library"
    result = _run(pytester, check)
    result.assert_outcomes(failed=1)
    assert "kit_plugin imports heavy libraries: ['numpy']" in result.stdout.str()


def test_a_schema_accepting_a_wrong_type_fails_the_type_check(pytester: pytest.Pytester) -> None:
    _write(pytester, "describe", "    steps: int | str = Field(3, description='points on the curve')",
           not_applicable='wrong_type = ("steps", "many")')
    result = _run(pytester, "test_wrong_type_is_one_line_error_and_no_run")
    result.assert_outcomes(failed=1)


def test_not_applicable_is_reported_with_its_reason_never_silently(pytester: pytest.Pytester) -> None:
    _write(pytester, not_applicable=textwrap.dedent(
        'not_applicable = {"test_same_seed_same_metrics": "the endpoint samples"}'))
    result = _run(pytester, "same_seed")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*not applicable: the endpoint samples*"])


def test_not_applicable_naming_no_check_is_an_error(pytester: pytest.Pytester) -> None:
    _write(pytester, not_applicable='not_applicable = {"test_no_such_check": "typo"}')
    result = _run(pytester, "schema_forbids")
    result.assert_outcomes(errors=1)
    assert "not_applicable names no check: test_no_such_check" in result.stdout.str()
