"""What a run left in MLflow, as the core reports it (kept light: ``import runner`` loads it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunOutcome:
    """What a finished, failed, killed or skipped run left in MLflow."""

    run_id: str
    experiment: str
    status: str
    params: dict[str, Any]
    metrics: dict[str, float]
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment": self.experiment,
            "status": self.status,
            "params": self.params,
            "metrics": self.metrics,
            **({"error": self.error} if self.error else {}),
        }
