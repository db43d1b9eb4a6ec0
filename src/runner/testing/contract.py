"""The conformance kit: one test class every experiment-type plugin subclasses.

::

    from runner.testing import ExperimentTypeContract

    class TestMyType(ExperimentTypeContract):
        experiment_type = "my-type"
        params = {"epochs": 2}                    # a small, fast run
        not_applicable = {"test_same_seed_same_metrics": "the endpoint samples; no seed"}

Each check is a named test (``TestMyType::test_run_logs_declared_metrics``). A check that does
not apply to a plugin is listed in ``not_applicable`` with the reason, which the pytest report
shows (``-ra``): never a silent skip. The real runs share one tracking store per class.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from runner.config import ResolvedRun, resolve, resolve_config
from runner.experiment_type import ExperimentType
from runner.plugins import Plugins, load_plugins
from runner.registry import Registry
from runner.schema import member_models
from runner.testing.chat_server import ChatServer, serve_chat

#: Libraries a plugin module must not import: ``runner plugins``/``list``/``show`` load it.
HEAVY_MODULES = ("mlflow", "torch", "sklearn", "transformers", "sentence_transformers", "pandas",
                 "numpy", "scipy", "matplotlib")

_IMPORT_PROBE = """
import json, sys, time
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
print(json.dumps({{"seconds": elapsed, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


@dataclass
class ContractRun:
    """The class's reference run: its store, plugins, resolved params and what it left."""

    tracking_uri: str
    plugins: Plugins
    resolved: ResolvedRun
    run_id: str
    status: str
    error: str | None


def _models(params: Any) -> Iterator[type[BaseModel]]:
    """Every model of the schema, nested ones included."""
    seen: set[type[BaseModel]] = set()
    stack = member_models(params)
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        yield model
        for info in model.model_fields.values():
            stack.extend(member_models(info.annotation))
            for arg in typing.get_args(info.annotation):
                stack.extend(member_models(arg))


def _numeric_field(params: Any) -> str | None:
    """A top-level int or float field (the target of the wrong-type check)."""
    for model in member_models(params)[:1]:
        for name, info in model.model_fields.items():
            if info.annotation in (int, float):
                return name
    return None


class ExperimentTypeContract:
    """Checks that an experiment type keeps runner's plugin contract. Subclass it.

    :cvar experiment_type: the id of the type under test (required).
    :cvar params: overrides that make a small, fast run.
    :cvar not_applicable: check name -> reason it does not apply to this plugin.
    :cvar extra_plugins: ``(name, plugin)`` pairs registered besides the installed plugins
        (for a plugin that is not pip-installed, e.g. in the kit's own tests).
    :cvar plugin_module: the module ``runner plugins`` imports (default: where the type's
        plugin lives, found from its registration).
    :cvar wrong_type: ``(param, value)`` the schema must reject (default: a numeric param set
        to a word).
    :cvar import_budget_sec: the plugin module's import time limit, measured in a subprocess.
    """

    experiment_type: ClassVar[str] = ""
    params: ClassVar[dict[str, Any]] = {}
    not_applicable: ClassVar[dict[str, str]] = {}
    extra_plugins: ClassVar[tuple[tuple[str, object], ...]] = ()
    plugin_module: ClassVar[str | None] = None
    wrong_type: ClassVar[tuple[str, Any] | None] = None
    import_budget_sec: ClassVar[float] = 3.0

    # --- setup -----------------------------------------------------------------------------------

    def contract_params(self, fake_llm: ChatServer) -> dict[str, Any]:
        """The run's overrides; override to point an LLM plugin at ``fake_llm.base_url``."""
        return dict(self.params)

    @pytest.fixture(autouse=True)
    def _applicable(self, request: pytest.FixtureRequest) -> None:
        checks = {name for name in dir(ExperimentTypeContract) if name.startswith("test_")}
        unknown = sorted(set(self.not_applicable) - checks)
        if unknown:
            pytest.fail(f"not_applicable names no check: {', '.join(unknown)}", pytrace=False)
        reason = self.not_applicable.get(request.function.__name__)
        if reason:
            pytest.skip(f"not applicable: {reason}")

    @pytest.fixture(scope="class", autouse=True)
    def _contract_cwd(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
        """The class's runs start in a folder of their own: no stray ``registry.yaml`` is read,
        and edits to the author's work tree while the checks run are not taken for drift."""
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(tmp_path_factory.mktemp("contract-cwd"))
            yield

    @pytest.fixture(scope="class")
    def contract_llm(self) -> Iterator[ChatServer]:
        """An offline OpenAI-compatible server shared by the class's runs."""
        with serve_chat() as server:
            yield server

    @pytest.fixture(scope="class")
    def contract_plugins(self) -> Plugins:
        if not self.experiment_type:
            pytest.fail("set experiment_type on the ExperimentTypeContract subclass", pytrace=False)
        plugins = load_plugins(extra=self.extra_plugins)
        if self.experiment_type not in plugins.types:
            broken = [f"{i.name}: {i.status}" for i in plugins.infos.values() if i.error]
            pytest.fail(f"experiment type {self.experiment_type!r} is not registered "
                        f"(broken plugins: {'; '.join(broken) or 'none'})", pytrace=False)
        return plugins

    @pytest.fixture(scope="class")
    def contract_type(self, contract_plugins: Plugins) -> ExperimentType:
        return contract_plugins.types[self.experiment_type][0]

    def _resolve(self, plugins: Plugins, overrides: dict[str, Any]) -> ResolvedRun:
        return resolve(self.experiment_type, overrides, plugins=plugins, registry=Registry())

    def _run(self, plugins: Plugins, resolved: ResolvedRun, tracking_uri: str) -> ContractRun:
        from runner.runs import execute

        outcome = execute(resolved, plugins, tracking_uri=tracking_uri)
        return ContractRun(tracking_uri, plugins, resolved, outcome.run_id, outcome.status,
                           outcome.error)

    @pytest.fixture(scope="class")
    def contract_run(
        self, contract_plugins: Plugins, contract_llm: ChatServer,
        tmp_path_factory: pytest.TempPathFactory, _empty_store: Path,
    ) -> ContractRun:
        """The reference run, in a store of its own shared by the class's checks."""
        store = tmp_path_factory.mktemp("contract") / "mlflow.db"
        shutil.copyfile(_empty_store, store)
        resolved = self._resolve(contract_plugins, self.contract_params(contract_llm))
        run = self._run(contract_plugins, resolved, f"sqlite:///{store}")
        if run.status != "FINISHED":
            pytest.fail(f"the reference run ended {run.status}: {run.error}", pytrace=False)
        return run

    # --- the plugin module ---------------------------------------------------------------------

    def test_plugin_module_imports_no_heavy_library(
        self, contract_plugins: Plugins, contract_type: ExperimentType
    ) -> None:
        """``runner plugins`` imports the plugin module: it must stay light and quick."""
        module = self.plugin_module or _plugin_module(contract_plugins, self.experiment_type)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        probe = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE.format(module=module, heavy=HEAVY_MODULES)],
            capture_output=True, text=True, env=env, check=False,
        )
        assert probe.returncode == 0, f"importing {module} failed: {probe.stderr.strip()[-500:]}"
        report = json.loads(probe.stdout.strip().splitlines()[-1])
        assert report["heavy"] == [], f"{module} imports heavy libraries: {report['heavy']}"
        assert report["seconds"] < self.import_budget_sec, (
            f"importing {module} took {report['seconds']:.2f} s (budget {self.import_budget_sec} s)"
        )

    # --- the params schema ----------------------------------------------------------------------

    def test_params_schema_forbids_unknown_keys(self, contract_type: ExperimentType) -> None:
        """A misspelled param must be an error, never silently ignored."""
        lax = [m.__name__ for m in _models(contract_type.params)
               if m.model_config.get("extra") != "forbid"]
        assert lax == [], f"params models without extra='forbid': {', '.join(lax)}"

    def test_every_param_has_default_and_description(self, contract_type: ExperimentType) -> None:
        """``runner run TYPE`` works bare, and ``runner show TYPE`` explains every param."""
        problems = []
        for model in _models(contract_type.params):
            for name, info in model.model_fields.items():
                if info.is_required():
                    problems.append(f"{model.__name__}.{name}: no default")
                if not (info.description or "").strip():
                    problems.append(f"{model.__name__}.{name}: no description")
        assert problems == [], "; ".join(problems)

    # --- a real run ------------------------------------------------------------------------------

    def test_run_logs_declared_metrics(
        self, contract_run: ContractRun, contract_type: ExperimentType
    ) -> None:
        """Every declared metric is logged (curves with steps, finals once); none undeclared."""
        from mlflow import MlflowClient

        from runner.builtin.ledger import LEDGER_METRICS

        client = MlflowClient(contract_run.tracking_uri)
        logged = client.get_run(contract_run.run_id).data.metrics
        declared = {m.name: m for m in (*LEDGER_METRICS, *contract_type.metrics)}
        missing = [m.name for m in declared.values()
                   if m.condition is None and m.name not in logged]
        assert missing == [], f"declared metrics not logged: {', '.join(missing)}"
        undeclared = sorted(set(logged) - set(declared))
        assert undeclared == [], f"metrics logged but not declared: {', '.join(undeclared)}"
        for name in logged:
            steps = [p.step for p in client.get_metric_history(contract_run.run_id, name)]
            if declared[name].per_step:
                assert len(steps) == len(set(steps)), f"{name}: a step logged twice"
            else:
                assert steps == [0], f"{name} is a final metric but has steps {steps[:5]}"

    def test_logged_values_within_declared_bounds(
        self, contract_run: ContractRun, contract_type: ExperimentType
    ) -> None:
        """Every value of a metric that declares ``bounds`` (each step of a curve) lies in them:
        repeat intervals are clipped to those bounds, so a wrong declaration would hide spread."""
        from mlflow import MlflowClient

        client = MlflowClient(contract_run.tracking_uri)
        logged = client.get_run(contract_run.run_id).data.metrics
        outside = [
            f"{spec.name}={point.value} (step {point.step}) outside {spec.bounds}"
            for spec in contract_type.metrics if spec.bounds is not None and spec.name in logged
            for point in client.get_metric_history(contract_run.run_id, spec.name)
            if not spec.bounds[0] <= point.value <= spec.bounds[1]
        ]
        assert outside == [], "; ".join(outside)

    def test_unknown_param_is_one_line_error_and_no_run(
        self, contract_plugins: Plugins, tmp_path: Path
    ) -> None:
        self._check_rejected(contract_plugins, tmp_path, "no_such_param_xyz", "1")

    def test_wrong_type_is_one_line_error_and_no_run(
        self, contract_plugins: Plugins, contract_type: ExperimentType, tmp_path: Path
    ) -> None:
        key, value = self.wrong_type or (_numeric_field(contract_type.params), "not-a-number")
        if key is None:
            pytest.fail("no numeric param to set to a wrong type: set wrong_type = (param, value)",
                        pytrace=False)
        self._check_rejected(contract_plugins, tmp_path, str(key), str(value))

    def _check_rejected(self, plugins: Plugins, tmp_path: Path, key: str, value: str) -> None:
        """``runner run TYPE --set key=value`` prints one ``error:`` line, exits 2, makes no run."""
        from click.testing import CliRunner

        from runner import cli

        tracking_uri = f"sqlite:///{tmp_path / 'rejected.db'}"
        previous, cli._plugins = cli._plugins, plugins
        try:
            result = CliRunner().invoke(
                cli.cli, ["run", self.experiment_type, "--tracking-uri", tracking_uri,
                          *_set_args(self.params), "--set", f"{key}={value}"],
            )
        finally:
            cli._plugins = previous
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2, f"exit code {result.exit_code}: {result.output}"
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
        assert key.split(".")[-1] in lines[0]
        assert _run_count(tracking_uri) == 0

    def test_same_seed_same_metrics(
        self, contract_run: ContractRun, contract_type: ExperimentType
    ) -> None:
        """The same params and seed give the same deterministic metrics."""
        again = self._run(contract_run.plugins, contract_run.resolved, contract_run.tracking_uri)
        assert again.status == "FINISHED", again.error
        _assert_same_metrics(contract_run, again, contract_type)

    def test_reproduce_reports_no_drift(self, contract_run: ContractRun) -> None:
        """``runner reproduce`` of a fresh run finds nothing changed and every metric equal."""
        from runner.reproduction import reproduce

        result = reproduce(contract_run.run_id, contract_run.plugins,
                           tracking_uri=contract_run.tracking_uri)
        assert result.drift == [], [f"{d.what}: {d.original} -> {d.now}" for d in result.drift]
        assert result.reproduced, [m for m in result.metrics if m.checked and m.difference]

    def test_config_json_alone_reruns_it(
        self, contract_run: ContractRun, contract_type: ExperimentType, tmp_path: Path,
        _empty_store: Path,
    ) -> None:
        """The logged ``config.json``, in a new store, runs the same run again."""
        from runner.store.mlflow_store import load_config

        config = load_config(contract_run.tracking_uri, contract_run.run_id)
        resolved = resolve_config(json.loads(json.dumps(config)), contract_run.plugins)
        shutil.copyfile(_empty_store, tmp_path / "again.db")
        again = self._run(contract_run.plugins, resolved, f"sqlite:///{tmp_path / 'again.db'}")
        assert again.status == "FINISHED", again.error
        _assert_same_metrics(contract_run, again, contract_type)


def _set_args(params: dict[str, Any]) -> list[str]:
    """``--set key=value`` arguments for ``params`` (values as JSON, which YAML parses)."""
    from runner.overrides import flatten

    return [arg for key, value in flatten(params).items()
            for arg in ("--set", f"{key}={json.dumps(value)}")]


def _run_count(tracking_uri: str) -> int:
    """Runs in every experiment of the store (0 when it was never created)."""
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    if not database.exists():
        return 0
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return len(client.search_runs(experiments)) if experiments else 0


def _assert_same_metrics(first: ContractRun, second: ContractRun, exp_type: ExperimentType) -> None:
    from mlflow import MlflowClient

    def deterministic(run: ContractRun) -> dict[str, float]:
        metrics = MlflowClient(run.tracking_uri).get_run(run.run_id).data.metrics
        return {k: v for k, v in metrics.items()
                if (spec := exp_type.metric(k) or _ledger_metric(k)) is None or spec.deterministic}

    a, b = deterministic(first), deterministic(second)
    differing = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b))
                 if not (k in a and k in b and (a[k] == b[k] or math.isnan(a[k]) and math.isnan(b[k])))}
    assert differing == {}, f"deterministic metrics differ (first, second): {differing}"


def _ledger_metric(name: str) -> Any:
    from runner.builtin.ledger import LEDGER_METRICS

    return next((spec for spec in LEDGER_METRICS if spec.name == name), None)


def _plugin_module(plugins: Plugins, type_id: str) -> str:
    """The module the plugin providing ``type_id`` was loaded from."""
    info = plugins.types[type_id][1]
    plugin = plugins.manager.get_plugin(info.name)
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    return type(plugin).__module__
