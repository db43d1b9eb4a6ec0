"""Plugin discovery: built-in plugins and the ``runner`` entry-point group, on one manager.

A plugin that fails to import, breaks a hook spec or declares a bad experiment type is kept in
the listing as ``broken: <reason>``; the others keep working.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from importlib.metadata import EntryPoint, entry_points

import pluggy

from runner import __version__, hookspecs
from runner.errors import InputError
from runner.experiment_type import ExperimentType, MetricSpec
from runner.provenance import CORE_DIST

ENTRY_POINT_GROUP = "runner"
#: Comma-separated entry-point names: when set, only these external plugins load.
LOAD_ENV = "RUNNER_LOAD_PLUGINS"
#: Comma-separated entry-point names that never load.
DISABLED_ENV = "RUNNER_DISABLED_PLUGINS"
#: Set to print every hook call and result to stderr.
TRACE_ENV = "RUNNER_TRACE_HOOKS"

#: Built-in plugins, registered through the same path as installed ones.
BUILTIN_PLUGINS = (
    ("tracking", "runner.builtin.tracking"),
    ("provenance", "runner.builtin.provenance"),
    ("ledger", "runner.builtin.ledger"),
)


@dataclass
class PluginInfo:
    """What ``runner plugins`` shows about one plugin."""

    name: str
    dist: str | None = None
    version: str | None = None
    builtin: bool = False
    hooks: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def status(self) -> str:
        return "ok" if self.error is None else f"broken: {self.error}"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "dist": self.dist,
            "version": self.version,
            "builtin": self.builtin,
            "experiment_types": self.types,
            "hooks": self.hooks,
            "status": self.status,
        }


@dataclass
class Plugins:
    """The loaded plugin manager with what each plugin contributes."""

    manager: pluggy.PluginManager
    infos: dict[str, PluginInfo]
    types: dict[str, tuple[ExperimentType, PluginInfo]]

    def experiment_type(self, type_id: str) -> tuple[ExperimentType, PluginInfo]:
        """The experiment type ``type_id`` and the plugin providing it."""
        try:
            return self.types[type_id]
        except KeyError:
            known = ", ".join(sorted(self.types)) or "none installed"
            raise InputError(f"unknown experiment type {type_id!r} (known: {known})") from None

    def run_manager(self) -> pluggy.PluginManager:
        """A fresh manager with the same plugins, for one run.

        A run registers its type's implementation on it, so runs going on at the same time in
        one process (threads of a warm worker, a notebook) never see each other's hooks.
        """
        manager = new_manager()
        for name, plugin in self.manager.list_name_plugin():
            if plugin is not None:
                manager.register(plugin, name=name)
        return manager

    def metric_spec(self, metric: str, experiment: str | None = None) -> MetricSpec | None:
        """The declaration of ``metric``, preferring a type whose experiment is ``experiment``;
        the core's own (the cost ledger) come first."""
        from runner.builtin.ledger import LEDGER_METRICS

        core = next((spec for spec in LEDGER_METRICS if spec.name == metric), None)
        if core is not None:
            return core
        found = [(exp_type.experiment_name == experiment, spec)
                 for exp_type, _ in self.types.values()
                 if (spec := exp_type.metric(metric)) is not None]
        found.sort(key=lambda pair: not pair[0])
        return found[0][1] if found else None


def _names(env: str) -> set[str] | None:
    value = os.environ.get(env)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def new_manager() -> pluggy.PluginManager:
    """A fresh plugin manager that knows runner's hook specs and nothing else."""
    manager = pluggy.PluginManager("runner")
    manager.add_hookspecs(hookspecs)
    if os.environ.get(TRACE_ENV):
        manager.trace.root.setwriter(sys.stderr.write)
        manager.enable_tracing()
    return manager


def load_plugins(extra: Iterable[tuple[str, object]] = ()) -> Plugins:
    """Register built-in plugins, installed entry points, then ``extra`` (name, plugin) pairs."""
    manager = new_manager()
    infos: dict[str, PluginInfo] = {}
    for name, module_name in BUILTIN_PLUGINS:
        info = PluginInfo(name, CORE_DIST, __version__, builtin=True)
        infos[name] = _register(manager, info, importlib.import_module, module_name)
    allowed, disabled = _names(LOAD_ENV), _names(DISABLED_ENV) or set()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in disabled or (allowed is not None and ep.name not in allowed):
            continue
        dist = ep.dist
        info = PluginInfo(ep.name, dist.name if dist else None, dist.version if dist else None)
        infos[ep.name] = _register(manager, info, EntryPoint.load, ep)
    for name, plugin in extra:
        infos[name] = _register(manager, PluginInfo(name), lambda p: p, plugin)
    types = _collect_types(manager, infos)
    return Plugins(manager, infos, types)


def _register(
    manager: pluggy.PluginManager, info: PluginInfo, load: Callable[[Any], object], source: Any
) -> PluginInfo:
    """Load and register one plugin, recording (not raising) what goes wrong."""
    try:
        plugin = load(source)
        manager.register(plugin, name=info.name)
        manager.check_pending()  # a hook name that matches no spec is a broken plugin
    except Exception as exc:  # noqa: BLE001 - any failure of a plugin is reported, not fatal
        info.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if manager.has_plugin(info.name):
            manager.unregister(name=info.name)
        return info
    info.hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or [])
    return info


def register_commands(plugins: Plugins, cli: Any) -> None:
    """Let every plugin add its commands to ``cli``; a plugin whose hook fails is listed broken."""
    for impl in plugins.manager.hook.runner_register_commands.get_hookimpls():
        info = plugins.infos.get(impl.plugin_name)
        try:
            impl.function(cli=cli)
        except Exception as exc:  # noqa: BLE001 - one broken plugin never takes the CLI down
            if info is not None:
                info.error = f"runner_register_commands: {type(exc).__name__}: {exc}".splitlines()[0]


def _collect_types(
    manager: pluggy.PluginManager, infos: dict[str, PluginInfo]
) -> dict[str, tuple[ExperimentType, PluginInfo]]:
    """Call each plugin's registration hook on its own so a failure is pinned on its plugin."""
    types: dict[str, tuple[ExperimentType, PluginInfo]] = {}
    for impl in manager.hook.runner_register_experiment_types.get_hookimpls():
        info = infos[impl.plugin_name]
        declared: list[ExperimentType] = []
        implementation_hooks: set[str] = set()
        try:
            impl.function(register=declared.append)
            for exp_type in declared:
                if not isinstance(exp_type, ExperimentType):
                    raise TypeError(f"register() takes an ExperimentType, got {type(exp_type).__name__}")
                if exp_type.id in types:
                    owner = types[exp_type.id][1].name
                    raise ValueError(f"experiment type {exp_type.id!r} is already provided by {owner!r}")
                exp_type.validate()  # metric declarations, primary metric
                exp_type.adapter()  # a params schema pydantic cannot build is a broken plugin
                # a missing implementation is a broken plugin too (read from source, no import)
                implementation_hooks.update(exp_type.implementation_hooks())
        except Exception as exc:  # noqa: BLE001
            info.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            manager.unregister(name=impl.plugin_name)
            continue
        for exp_type in declared:
            types[exp_type.id] = (exp_type, info)
            info.types.append(exp_type.id)
        info.hooks = sorted({*info.hooks, *implementation_hooks})
    return types
