"""What a run recorded and the store has not written yet: plain data, no MLflow.

The :class:`~runner.context.RunContext` appends here; the store drains it after every phase,
and while a phase runs whenever :meth:`Recorder.flush_due` says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Buffered step points that trigger a flush while a phase is still running.
FLUSH_POINTS = 5000
#: Seconds after which buffered points are written while a phase is still running, so a run
#: killed hard loses at most this much of its curves.
FLUSH_SECONDS = 2.0


@dataclass(frozen=True)
class MetricPoint:
    """One value of a metric; ``step`` is ``None`` for a run's final value."""

    key: str
    value: float
    step: int | None
    timestamp_ms: int


@dataclass(frozen=True)
class ModelRecord:
    """A trained model to log with its MLflow flavor (``sklearn``, ``pytorch``, ...)."""

    model: Any
    flavor: str
    name: str
    input_example: Any = None
    output_example: Any = None
    pip_requirements: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset the run used: a pandas DataFrame, where it came from and its role."""

    frame: Any
    name: str
    source: str
    targets: str | None = None
    context: str = "training"


@dataclass(frozen=True)
class ArtifactRecord:
    """An artifact: a local file/folder, text or bytes, a figure or a table."""

    artifact_file: str
    path: Path | None = None
    content: str | bytes | None = None
    figure: Any = None
    table: Any = None


@dataclass(frozen=True)
class PromptRef:
    """A prompt version in the MLflow Prompt Registry."""

    name: str
    version: int
    uri: str
    template: str


@dataclass
class Recorder:
    """Results recorded but not yet written; the store drains it."""

    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[MetricPoint] = field(default_factory=list)
    artifacts: list[ArtifactRecord] = field(default_factory=list)
    models: list[ModelRecord] = field(default_factory=list)
    datasets: list[DatasetRecord] = field(default_factory=list)
    prompts: list[PromptRef] = field(default_factory=list)
    #: Every dataset recorded during the run (kept after writing: the content key reads them).
    all_datasets: list[DatasetRecord] = field(default_factory=list)
    #: Declared inputs (``ctx.log_input``): name -> digest of their bytes.
    inputs: dict[str, str] = field(default_factory=dict)
    last_flush: float = field(default_factory=time.monotonic)

    def metric(self, key: str, value: float, step: int | None) -> None:
        self.metrics.append(MetricPoint(key, value, step, int(time.time() * 1000)))

    def artifact(self, artifact_file: str, **what: Any) -> None:
        self.artifacts.append(ArtifactRecord(artifact_file, **what))

    def items(self, table: dict[str, list[Any]], key: str, output: str, scores: list[str]) -> None:
        from runner.store.names import (
            ITEMS_ARTIFACT,
            ITEMS_KEY_TAG,
            ITEMS_OUTPUT_TAG,
            ITEMS_SCORES_TAG,
        )

        self.artifact(ITEMS_ARTIFACT, table=table)
        self.tags[ITEMS_KEY_TAG] = key
        self.tags[ITEMS_OUTPUT_TAG] = output
        self.tags[ITEMS_SCORES_TAG] = ",".join(scores)

    def model(
        self, model: Any, flavor: str, name: str, input_example: Any, output_example: Any,
        pip_requirements: tuple[str, ...], options: dict[str, Any],
    ) -> None:
        self.models.append(
            ModelRecord(model, flavor, name, input_example, output_example, pip_requirements,
                        dict(options))
        )

    def dataset(
        self, frame: Any, name: str, source: str, targets: str | None, context: str
    ) -> None:
        record = DatasetRecord(frame, name, source, targets, context)
        self.datasets.append(record)
        self.all_datasets.append(record)

    def flush_due(self) -> bool:
        """Enough points, or enough time, since the last write."""
        return len(self.metrics) >= FLUSH_POINTS or (
            bool(self.metrics) and time.monotonic() - self.last_flush >= FLUSH_SECONDS
        )
