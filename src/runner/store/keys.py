"""The content key: what makes two runs the same, for skip-if-done and reproduce."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner import __version__
from runner.provenance import code_version, config_hash

if TYPE_CHECKING:
    from runner.context import RunContext


def input_digests(ctx: RunContext) -> dict[str, str]:
    """Input name -> digest of everything the run recorded reading so far.

    A dataset whose source is a local file or folder is digested by its bytes (MLflow's own
    dataset digest hashes only the first 10,000 rows); other datasets by MLflow's digest.
    Inputs declared with ``ctx.log_input`` (prompt texts, model files) are added as they are.
    """
    from runner.inputs import local_path, path_digest

    digests: dict[str, str] = {}
    for record in ctx._core.recorder.all_datasets:
        path = local_path(record.source)
        if path is not None:
            digests[record.name] = path_digest(path)
        else:
            from runner.store.writer import mlflow_dataset

            digests[record.name] = mlflow_dataset(record).digest
    digests.update(ctx._core.recorder.inputs)
    return digests


def content_key(ctx: RunContext, digests: dict[str, str] | None = None) -> str:
    """A hash of the resolved config, runner and plugin versions, the code and every input read.

    Computed after ``runner_prepare``, when the datasets (and so their digests) are known. The
    registry entry's name is left out: the same params under another name are the same run.
    ``digests``: :func:`input_digests` when the caller has them already.
    """
    plugin = ctx.plugin
    parts = {
        "config": config_hash({k: v for k, v in ctx.config.items() if k != "registry_entry"}),
        "runner": __version__,
        "plugin": f"{plugin.dist}=={plugin.version}" if plugin else None,
        "code": code_version(),
        "inputs": sorted((digests if digests is not None else input_digests(ctx)).items()),
    }
    return config_hash(parts)
