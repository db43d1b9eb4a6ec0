"""Default run names that say what ran: ``ml-baseline``, ``ml-baseline C=0.3``.

The MLflow UI labels runs by name (Compare columns, charts), so a name is the registry entry
(or the experiment type) plus the overrides that differ from it — for a sweep child, its grid
point. ``--run-name`` still wins.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.config import ResolvedRun

#: Longer names are cut (with an ellipsis): the UI shows the start of a name.
MAX_LENGTH = 80


def _short(value: Any) -> str:
    """A value as it reads in a name: paths by their file name, lists as compact JSON."""
    if isinstance(value, str):
        return PurePath(value).name if "/" in value else value
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def default_run_name(resolved: ResolvedRun) -> str:
    """The entry or type, then ``key=value`` for each override that differs from it."""
    base = resolved.entry_name or resolved.experiment_type.id
    name = " ".join([base, *(f"{key}={_short(value)}" for key, value in resolved.overrides)])
    return name if len(name) <= MAX_LENGTH else name[: MAX_LENGTH - 1] + "…"
