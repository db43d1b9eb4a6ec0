"""Where a run came from: code version, environment and a hash of its resolved config."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


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


def code_version(cwd: Path | None = None) -> str | None:
    """The commit, plus a hash of the uncommitted diff when the tree is dirty."""
    state = git_state(cwd)
    if state is None:
        return None
    commit, dirty = state
    if not dirty:
        return commit
    diff = subprocess.run(["git", "diff", "HEAD"], cwd=cwd, capture_output=True, check=False).stdout
    return f"{commit}+dirty.{hashlib.sha256(diff).hexdigest()[:12]}"


def environment() -> dict[str, str]:
    """Interpreter and platform of this process."""
    return {"python": platform.python_version(), "platform": platform.platform(), "executable": sys.executable}
