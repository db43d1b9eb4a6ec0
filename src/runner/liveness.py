"""Which process runs a run: tagged when the run starts, so a run whose process is gone is found.

A run killed hard (SIGKILL, a crashed machine) cannot end itself and stays ``RUNNING`` in the
store. Each run is tagged with its host, process id and the process's start time; on the same
host a run is stale when that process no longer exists (or the pid now belongs to another
process). Runs of other hosts are never judged from here.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from runner.store import names

if TYPE_CHECKING:
    from runner.store.mlflow_store import RunView


def process_tags() -> dict[str, str]:
    """Host, pid and process start time of this process, as run tags."""
    process = psutil.Process()
    return {
        names.HOST_TAG: socket.gethostname(),
        names.PID_TAG: str(process.pid),
        names.PROCESS_START_TAG: f"{process.create_time():.3f}",
    }


def is_stale(tags: Mapping[str, str]) -> bool:
    """A run of this host whose process is gone; ``False`` when it cannot be told from here."""
    if tags.get(names.HOST_TAG) != socket.gethostname() or not tags.get(names.PID_TAG):
        return False
    try:
        process = psutil.Process(int(tags[names.PID_TAG]))
        started = f"{process.create_time():.3f}"
    except (psutil.NoSuchProcess, ValueError):
        return True
    except psutil.AccessDenied:
        return False
    return started != tags.get(names.PROCESS_START_TAG, started)


def stale_reason(tags: Mapping[str, str]) -> str:
    """What a user reads on a run marked FAILED because its process is gone."""
    return (f"process {tags.get(names.PID_TAG)} on {tags.get(names.HOST_TAG)} ended without "
            "ending the run (killed hard?)")


#: Prefix of a run's temporary folder: ``runner-<pid>-<random>``.
WORKDIR_PREFIX = "runner-"


def new_workdir() -> Path:
    """A private temporary folder for one run, named after this process.

    Folders left by processes that were killed hard (nothing could remove them) are removed
    here, so they do not pile up.
    """
    root = Path(tempfile.gettempdir())
    for folder in root.glob(f"{WORKDIR_PREFIX}*-*"):
        pid = folder.name.removeprefix(WORKDIR_PREFIX).partition("-")[0]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))


def stale_runs(tracking_uri: str, experiment: str | None = None) -> list[RunView]:
    """RUNNING runs of this host whose process is gone."""
    from runner.store.mlflow_store import running_runs

    return [run for run in running_runs(tracking_uri, experiment) if is_stale(run.tags)]


def end_stale_runs(tracking_uri: str, experiment: str | None = None) -> list[RunView]:
    """Mark every stale run FAILED (tag ``runner.stale`` says why); returns them."""
    from runner.store.mlflow_store import mark_failed

    stale = stale_runs(tracking_uri, experiment)
    for run in stale:
        mark_failed(tracking_uri, run.run_id, stale_reason(run.tags))
    return stale
