"""Built-in plugin: tags every run with where it came from, before the run is created."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from runner import __version__
from runner.hookspecs import hookimpl
from runner.provenance import CORE_DIST, code_version, config_hash, environment, git_state, package_versions
from runner.store import names

if TYPE_CHECKING:
    from runner.context import RunContext


@hookimpl(tryfirst=True)
def runner_prepare(ctx: RunContext) -> None:
    """Record runner/plugin/package versions, type, registry entry, config hash, git, seed."""
    env = environment()
    plugin = ctx.plugin
    tags = {
        names.VERSION_TAG: __version__,
        names.EXPERIMENT_TYPE_TAG: ctx.experiment_type.id,
        names.CONFIG_HASH_TAG: config_hash(ctx.config),
        names.PYTHON_TAG: env["python"],
        names.PLATFORM_TAG: env["platform"],
        names.PACKAGES_TAG: json.dumps(
            package_versions([CORE_DIST, *([plugin.dist] if plugin and plugin.dist else [])])
        ),
    }
    if plugin is not None:
        tags[names.PLUGIN_TAG] = plugin.name
        tags[names.PLUGIN_DIST_TAG] = plugin.dist or "unknown"
        tags[names.PLUGIN_VERSION_TAG] = plugin.version or "unknown"
    if ctx.entry_name:
        tags[names.REGISTRY_ENTRY_TAG] = ctx.entry_name
    if ctx.seed is not None:
        tags[names.SEED_TAG] = str(ctx.seed)
    git = git_state()
    if git is not None:
        tags[names.GIT_COMMIT_TAG] = git[0]
        tags[names.GIT_DIRTY_TAG] = str(git[1]).lower()
    code = code_version(state=git)
    if code is not None:
        tags[names.CODE_VERSION_TAG] = code
    from runner.liveness import process_tags  # psutil: loaded by runs, not by listing commands

    tags.update(process_tags())
    for key, value in tags.items():
        ctx.set_tag(key, value)
