"""``runner reproduce``: run a logged run again from its ``config.json`` and diff the results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from runner import __version__
from runner.compare import get_run
from runner.errors import InputError
from runner.plugins import Plugins
from runner.provenance import git_state, package_versions
from runner.runs import RunOutcome, execute, prepare_only, resolve_config
from runner.tracking import CONFIG_ARTIFACT, DIGEST_TAG, mlflow_dataset

if TYPE_CHECKING:
    from runner.context import RunContext

REPRODUCES_TAG = "runner.reproduces"


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


def load_config(client: MlflowClient, run_id: str) -> dict[str, Any]:
    """The run's logged ``config.json``; a run made outside runner has none."""
    get_run(client, run_id)
    try:
        path = client.download_artifacts(run_id, CONFIG_ARTIFACT)
    except (MlflowException, OSError):
        raise InputError(f"run {run_id} has no {CONFIG_ARTIFACT}: it was not made by runner") from None
    with open(path) as handle:
        return json.load(handle)


def environment_drift(tags: dict[str, str], plugins: Plugins, type_id: str) -> list[Drift]:
    """Code, runner and plugin versions then (tags) and now."""
    drift = []
    state = git_state()
    then_code = tags.get("mlflow.source.git.commit")
    then_dirty = tags.get("runner.git.dirty") == "true"
    now_code, now_dirty = state if state else (None, False)
    if then_code != now_code or then_dirty or now_dirty:
        describe = lambda c, d: f"{c}{' (dirty)' if d else ''}" if c else None  # noqa: E731
        drift.append(Drift("code", describe(then_code, then_dirty), describe(now_code, now_dirty)))
    if tags.get("runner.version") != __version__:
        drift.append(Drift("runner version", tags.get("runner.version"), __version__))
    _, plugin = plugins.experiment_type(type_id)
    if tags.get("runner.plugin.version") != plugin.version:
        drift.append(Drift(f"plugin {plugin.dist or plugin.name} version", tags.get("runner.plugin.version"),
                           plugin.version))
    then = json.loads(tags.get("runner.packages", "{}"))
    now = package_versions(["runner", *([plugin.dist] if plugin.dist else [])])
    drift += [Drift(f"package {name}", then.get(name), now.get(name))
              for name in sorted(set(then) | set(now)) if then.get(name) != now.get(name)]
    return drift


def data_drift(tags: dict[str, str], probe: RunContext) -> list[Drift]:
    """Digests of the data the run reads now (``runner_prepare`` only) against the logged ones."""
    now = {record.name: mlflow_dataset(record).digest for record in probe.pending.datasets}
    then = {k.removeprefix(DIGEST_TAG): v for k, v in tags.items() if k.startswith(DIGEST_TAG)}
    return [Drift(f"data {name}", then.get(name), now.get(name))
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
    client = MlflowClient(tracking_uri)
    config = load_config(client, run_id)
    original = get_run(client, run_id)
    resolved = resolve_config(config, plugins)
    drift = environment_drift(original.data.tags, plugins, resolved.experiment_type.id)
    drift += data_drift(original.data.tags, prepare_only(resolved, plugins, tracking_uri))
    if on_drift:
        on_drift(drift)
    outcome = execute(resolved, plugins, tracking_uri=tracking_uri, tags={REPRODUCES_TAG: run_id},
                      run_name=f"reproduce {original.info.run_name or run_id}")
    new = client.get_run(outcome.run_id)
    drift += derived_param_drift(original.data.params, new.data.params)
    unchecked = {m.name for m in resolved.experiment_type.metrics if not m.deterministic}
    metrics = [
        MetricDiff(name, value, new.data.metrics.get(name), name not in unchecked)
        for name, value in sorted(original.data.metrics.items())
    ]
    return Reproduction(run_id, outcome, drift, metrics, tolerance)
