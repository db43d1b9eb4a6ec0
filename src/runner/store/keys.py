"""The content key: what makes two runs the same, for skip-if-done and reproduce."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner import __version__
from runner.provenance import code_version, config_hash

if TYPE_CHECKING:
    from runner.context import RunContext


def data_digests(ctx: RunContext) -> dict[str, str]:
    """Dataset name -> MLflow digest of every dataset the run recorded so far."""
    from runner.store.mlflow_store import mlflow_dataset

    return {record.name: mlflow_dataset(record).digest for record in ctx._core.recorder.all_datasets}


def content_key(ctx: RunContext) -> str:
    """A hash of the resolved config, runner and plugin versions, the code and the data read.

    Computed after ``runner_prepare``, when the datasets (and so their digests) are known. The
    registry entry's name is left out: the same params under another name are the same run.
    """
    plugin = ctx.plugin
    parts = {
        "config": config_hash({k: v for k, v in ctx.config.items() if k != "registry_entry"}),
        "runner": __version__,
        "plugin": f"{plugin.dist}=={plugin.version}" if plugin else None,
        "code": code_version(),
        "data": sorted(data_digests(ctx).values()),
    }
    return config_hash(parts)
