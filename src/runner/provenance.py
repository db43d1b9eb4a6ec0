"""Where a run came from: code version, environment and a hash of its resolved config."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any


#: Set by a sweep's driver for its workers on other hosts (which may have no git checkout):
#: the code version their runs record, so they carry the same content key as the driver's.
CODE_VERSION_ENV = "RUNNER_CODE_VERSION"

#: The distribution name of the core (the import package and the command are ``runner``).
CORE_DIST = "runner-core"

REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def config_hash(config: dict[str, Any]) -> str:
    """A stable short hash of a resolved config (key order does not matter)."""
    canonical = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def git_state(cwd: Path | None = None) -> tuple[str, bool] | None:
    """``(commit, dirty)`` of the git work tree around ``cwd``, or ``None`` outside one."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit, bool(status.strip())


def code_version(cwd: Path | None = None, state: tuple[str, bool] | None = None) -> str | None:
    """The commit, plus a hash of the uncommitted diff when the tree is dirty.

    :param state: ``git_state(cwd)`` when the caller has it already (saves two git calls).

    ``$RUNNER_CODE_VERSION``, when set (by a sweep's driver for its Ray workers), wins.
    """
    if os.environ.get(CODE_VERSION_ENV):
        return os.environ[CODE_VERSION_ENV]
    state = state or git_state(cwd)
    if state is None:
        return None
    commit, dirty = state
    if not dirty:
        return commit
    diff = subprocess.run(["git", "diff", "HEAD"], cwd=cwd, capture_output=True, check=False).stdout
    return f"{commit}+dirty.{hashlib.sha256(diff).hexdigest()[:12]}"


def environment() -> dict[str, str]:
    """Interpreter and platform of this process."""
    return {"python": platform.python_version(), "platform": platform.platform()}


def package_versions(dists: list[str]) -> dict[str, str]:
    """Installed versions of ``dists`` and of everything they require (extras left out)."""
    versions: dict[str, str] = {}
    for dist in dists:
        try:
            requires = metadata.requires(dist) or []
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            match = REQUIREMENT_NAME.match(requirement)
            if match is None or "extra ==" in requirement:
                continue
            with contextlib.suppress(metadata.PackageNotFoundError):
                versions[match.group(0).lower()] = metadata.version(match.group(0))
    return dict(sorted(versions.items()))
