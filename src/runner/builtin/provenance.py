"""Built-in plugin: tags every run with where it came from, before the run is created."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from runner import __version__
from runner.hookspecs import hookimpl
from runner.provenance import config_hash, environment, git_state, package_versions

if TYPE_CHECKING:
    from runner.context import RunContext


@hookimpl(tryfirst=True)
def runner_prepare(ctx: RunContext) -> None:
    """Record runner/plugin/package versions, type, registry entry, config hash, git, seed."""
    env = environment()
    tags = {
        "runner.version": __version__,
        "runner.experiment_type": ctx.experiment_type.id,
        "runner.config_hash": config_hash(ctx.config),
        "runner.python": env["python"],
        "runner.platform": env["platform"],
    }
    tags["runner.packages"] = json.dumps(
        package_versions(["runner", *([ctx.plugin.dist] if ctx.plugin and ctx.plugin.dist else [])])
    )
    if ctx.plugin is not None:
        tags["runner.plugin"] = ctx.plugin.name
        tags["runner.plugin.dist"] = ctx.plugin.dist or "unknown"
        tags["runner.plugin.version"] = ctx.plugin.version or "unknown"
    if ctx.entry_name:
        tags["runner.registry_entry"] = ctx.entry_name
    if ctx.seed is not None:
        tags["runner.seed"] = str(ctx.seed)
    git = git_state()
    if git is not None:
        tags["mlflow.source.git.commit"] = git[0]
        tags["runner.git.dirty"] = str(git[1]).lower()
    for key, value in tags.items():
        ctx.set_tag(key, value)
