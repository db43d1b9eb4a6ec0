"""``runner reproduce``: run a logged run again from its ``config.json`` and diff the results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner import __version__
from runner.config import resolve_config
from runner.plugins import Plugins
from runner.provenance import CORE_DIST, code_version, git_state, package_versions
from runner.runs import RunOutcome, execute, prepare_only
from runner.store import mlflow_store, names
from runner.store.keys import input_digests

if TYPE_CHECKING:
    from runner.context import RunContext


@dataclass(frozen=True)
class Drift:
    """Something that differs between the original run's world and now."""

    what: str
    original: str | None
    now: str | None


@dataclass(frozen=True)
class MetricDiff:
    name: str
    original: float
    new: float | None
    checked: bool

    @property
    def difference(self) -> float | None:
        return None if self.new is None else self.new - self.original


@dataclass(frozen=True)
class Reproduction:
    original_run_id: str
    outcome: RunOutcome
    drift: list[Drift]
    metrics: list[MetricDiff]
    tolerance: float

    @property
    def reproduced(self) -> bool:
        """Every checked metric is within the tolerance and the new run finished."""
        return self.outcome.status == "FINISHED" and all(
            m.difference is not None and abs(m.difference) <= self.tolerance
            for m in self.metrics if m.checked
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "original_run_id": self.original_run_id,
            "new_run_id": self.outcome.run_id,
            "status": self.outcome.status,
            "reproduced": self.reproduced,
            "tolerance": self.tolerance,
            "drift": [d.__dict__ for d in self.drift],
            "metrics": [{**m.__dict__, "difference": m.difference} for m in self.metrics],
        }


def _describe_code(commit: str | None, version: str | None) -> str | None:
    """``<commit>``, or ``<commit> (dirty, diff <hash>)`` for uncommitted changes."""
    if version and "+dirty." in version:
        return f"{commit} (dirty, diff {version.partition('+dirty.')[2]})"
    return commit


def environment_drift(tags: dict[str, str], plugins: Plugins, type_id: str) -> list[Drift]:
    """Code, runner and plugin versions then (tags) and now.

    Code drifts when the commit or the uncommitted diff differs; the same dirty tree is the same
    code. Runs made outside a git checkout compare equal when neither has a commit.
    """
    drift = []
    state = git_state()
    then = tags.get(names.CODE_VERSION_TAG)
    now = code_version(state=state) if state else None
    if then != now:
        then_desc = _describe_code(tags.get(names.GIT_COMMIT_TAG), then)
        now_desc = _describe_code(state[0] if state else None, now)
        drift.append(Drift("code", then_desc, now_desc))
    if tags.get(names.VERSION_TAG) != __version__:
        drift.append(Drift("runner version", tags.get(names.VERSION_TAG), __version__))
    _, plugin = plugins.experiment_type(type_id)
    plugin_version = plugin.version or "unknown"  # as the provenance plugin tags it
    if tags.get(names.PLUGIN_VERSION_TAG) != plugin_version:
        drift.append(Drift(f"plugin {plugin.dist or plugin.name} version",
                           tags.get(names.PLUGIN_VERSION_TAG), plugin_version))
    packages_then = json.loads(tags.get(names.PACKAGES_TAG, "{}"))
    packages_now = package_versions([CORE_DIST, *([plugin.dist] if plugin.dist else [])])
    drift += [Drift(f"package {name}", packages_then.get(name), packages_now.get(name))
              for name in sorted(set(packages_then) | set(packages_now))
              if packages_then.get(name) != packages_now.get(name)]
    return drift


def data_drift(tags: dict[str, str], probe: RunContext) -> list[Drift]:
    """Digests of the data the run reads now (``runner_prepare`` only) against the logged ones."""
    now = input_digests(probe)
    then = {k.removeprefix(names.INPUT_DIGEST_TAG_PREFIX): v for k, v in tags.items()
            if k.startswith(names.INPUT_DIGEST_TAG_PREFIX)}
    return [Drift(f"input {name}", then.get(name), now.get(name))
            for name in sorted(set(then) | set(now)) if then.get(name) != now.get(name)]


def derived_param_drift(original: dict[str, str], new: dict[str, str]) -> list[Drift]:
    """Params the run derived (e.g. ``prompt_uri``: the prompt version) that changed."""
    return [Drift(f"param {key}", original.get(key), new.get(key))
            for key in sorted(set(original) | set(new)) if original.get(key) != new.get(key)]


def reproduce(
    run_id: str, plugins: Plugins, *, tracking_uri: str, tolerance: float = 0.0,
    on_drift: Any = None,
) -> Reproduction:
    """Re-run ``run_id`` from its config as a new run tagged with the original's id."""
    config = mlflow_store.load_config(tracking_uri, run_id)
    original = mlflow_store.get_run(tracking_uri, run_id)
    resolved = resolve_config(config, plugins)
    drift = environment_drift(original.tags, plugins, resolved.experiment_type.id)
    drift += data_drift(original.tags, prepare_only(resolved, plugins, tracking_uri))
    if on_drift:
        on_drift(drift)
    outcome = execute(resolved, plugins, tracking_uri=tracking_uri,
                      tags={names.REPRODUCES_TAG: run_id},
                      run_name=f"reproduce {original.run_name or run_id}")
    new = mlflow_store.get_run(tracking_uri, outcome.run_id)
    drift += derived_param_drift(original.params, new.params)
    from runner.builtin.ledger import LEDGER_METRICS

    unchecked = {m.name for m in (*resolved.experiment_type.metrics, *LEDGER_METRICS)
                 if not m.deterministic}
    metrics = [
        MetricDiff(name, value, new.metrics.get(name), name not in unchecked)
        for name, value in sorted(original.metrics.items())
    ]
    return Reproduction(run_id, outcome, drift, metrics, tolerance)
