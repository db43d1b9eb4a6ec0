"""What a plugin declares about an experiment type: id, params schema, metrics, implementation.

Declaring is cheap on purpose: the params model is plain pydantic and the implementation is an
import string, so ``runner plugins``/``list``/``show`` never import a plugin's heavy libraries.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import TypeAdapter

Direction = Literal["maximize", "minimize"]
#: What the MLflow UI shows first for an experiment (its ``mlflow.experimentKind`` tag): the runs
#: table for model development, the GenAI views (traces, evaluations, prompts) for LLM work.
ExperimentKind = Literal["custom_model_development", "genai_development"]
HOOK_PREFIX = "runner_"


#: ``MetricSpec.bounds`` of a share or a score in [0, 1] (accuracy, F1, hit rate, pass rate).
UNIT_INTERVAL: tuple[float, float] = (0.0, 1.0)
#: ``MetricSpec.bounds`` of a value that is never negative (a loss, a count).
NON_NEGATIVE: tuple[float, float] = (0.0, math.inf)


@dataclass(frozen=True)
class MetricSpec:
    """One metric an experiment type promises to log.

    :param name: the MLflow metric key.
    :param direction: whether a larger (``maximize``) or smaller (``minimize``) value is better.
    :param description: one line a person reads in ``runner show``.
    :param per_step: ``True`` when the metric is a curve logged with a step (e.g. ``loss``).
    :param deterministic: ``False`` for measurements of the machine (times, throughput, compute
        cost): ``runner reproduce`` reports them but does not hold them to the tolerance.
    :param condition: for a metric logged only under some params, when (one line a person
        reads, e.g. ``"cv_folds >= 2"``); ``None`` means every finished run logs it.
    :param bounds: ``(low, high)``, the range a value can take (accuracy: ``(0, 1)``; a count or
        a loss: ``(0, math.inf)``); the 95% confidence intervals of ``--repeat`` are clipped to
        it. ``None``: unbounded.
    """

    name: str
    direction: Direction
    description: str
    per_step: bool = False
    deterministic: bool = True
    condition: str | None = None
    bounds: tuple[float, float] | None = None

    @property
    def maximize(self) -> bool:
        """Whether a larger value is better."""
        return self.direction == "maximize"

    def sort_key(self, value: float | None) -> tuple[bool, float]:
        """Sorts values best first (``sorted(values, key=spec.sort_key)``); missing ones last."""
        if value is None or math.isnan(value):
            return (True, 0.0)
        return (False, -value if self.maximize else value)

    def best(self, values: Iterable[float]) -> float | None:
        """The best of ``values`` (``None`` for none)."""
        ordered = sorted(values, key=self.sort_key)
        return ordered[0] if ordered else None

    def is_better(self, value: float, than: float) -> bool:
        """Whether ``value`` beats ``than`` in this metric's direction."""
        return value > than if self.maximize else value < than


def _valid_bounds(bounds: object) -> bool:
    """A tuple of two real numbers (infinite allowed, NaN not), the first below the second."""
    if not isinstance(bounds, tuple) or len(bounds) != 2:
        return False
    if not all(isinstance(b, Real) and not isinstance(b, bool) for b in bounds):
        return False
    low, high = bounds
    return low < high  # False when either is NaN


@dataclass(frozen=True)
class ExperimentType:
    """An experiment type a plugin contributes through ``runner_register_experiment_types``.

    :param id: the name users type (``runner run sklearn``); unique across plugins.
    :param params: a pydantic model (or an ``Annotated`` union of models with a discriminator)
        whose fields forbid unknown keys. Validated before any run starts.
    :param implementation: ``"package.module:Class"`` (or the class itself); a fresh instance is
        registered as a plugin for the duration of one run and implements the lifecycle hooks.
        A string is imported only when a run needs it, which keeps declaring cheap.
    :param experiment_name: default MLflow experiment for runs of this type.
    :param description: one line for ``runner plugins`` and ``runner show``.
    :param metrics: the metrics contract; the first one is the primary metric used to rank runs
        unless ``primary_metric`` names another.
    :param experiment_kind: how the MLflow UI opens the type's experiments:
        ``custom_model_development`` (the runs table) or ``genai_development`` (traces,
        evaluation runs, prompts); set on experiments runner creates.
    """

    id: str
    params: Any
    implementation: str | type
    experiment_name: str
    description: str
    metrics: tuple[MetricSpec, ...] = field(default_factory=tuple)
    primary_metric: str | None = None
    experiment_kind: ExperimentKind = "custom_model_development"

    @property
    def primary(self) -> MetricSpec | None:
        """The metric sweeps and ``compare --top`` rank by."""
        if self.primary_metric:
            return self.metric(self.primary_metric)
        return self.metrics[0] if self.metrics else None

    def metric(self, name: str) -> MetricSpec | None:
        """The declared metric ``name``, if any."""
        return next((m for m in self.metrics if m.name == name), None)

    def validate(self) -> None:
        """Check the declaration; a plugin whose type fails this is listed broken.

        :raises ValueError: duplicate metric names, a name the core's cost ledger logs, a
            direction that is not ``maximize`` or ``minimize``, ``bounds`` that are not two
            numbers ``low < high``, or a ``primary_metric`` that names no declared metric.
        """
        from runner.builtin.ledger import LEDGER_METRICS

        names = [m.name for m in self.metrics]
        taken = sorted(set(names) & {m.name for m in LEDGER_METRICS})
        if taken:
            raise ValueError(f"experiment type {self.id!r} declares {taken[0]!r}, which the core's "
                             "cost ledger logs on every run (report API spend with ctx.add_cost)")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"experiment type {self.id!r} declares metric {duplicates[0]!r} twice")
        for spec in self.metrics:
            if not isinstance(spec, MetricSpec):
                raise TypeError(f"experiment type {self.id!r}: metrics must be MetricSpec objects")
            if spec.direction not in get_args(Direction):
                raise ValueError(f"metric {spec.name!r}: direction must be maximize or minimize, "
                                 f"not {spec.direction!r}")
            if spec.bounds is not None and not _valid_bounds(spec.bounds):
                raise ValueError(f"metric {spec.name!r}: bounds must be a tuple (low, high) of "
                                 "numbers (math.inf allowed, not NaN) with low < high, "
                                 f"not {spec.bounds!r}")
        if self.experiment_kind not in get_args(ExperimentKind):
            raise ValueError(f"experiment type {self.id!r}: experiment_kind must be one of "
                             f"{', '.join(get_args(ExperimentKind))}, not {self.experiment_kind!r}")
        if self.primary_metric is not None and self.primary_metric not in names:
            raise ValueError(f"experiment type {self.id!r}: primary_metric "
                             f"{self.primary_metric!r} names no declared metric")

    def adapter(self) -> TypeAdapter[Any]:
        """A pydantic adapter that validates and dumps this type's params."""
        return TypeAdapter(self.params)

    def implementation_hooks(self) -> list[str]:
        """The lifecycle hooks the implementation defines, read from its source (no import)."""
        if isinstance(self.implementation, type):
            return sorted(n for n in vars(self.implementation) if n.startswith(HOOK_PREFIX))
        module_name, _, attr = self.implementation.partition(":")
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.origin is None:
            raise ImportError(f"no module named {module_name!r}")
        tree = ast.parse(Path(spec.origin).read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == attr:
                return sorted(
                    item.name for item in node.body
                    if isinstance(item, ast.FunctionDef) and item.name.startswith(HOOK_PREFIX)
                )
        raise ImportError(f"{module_name} has no class {attr!r}")

    def load_implementation(self) -> object:
        """Import the implementation class and return a fresh instance of it."""
        if isinstance(self.implementation, type):
            return self.implementation()
        return pkgutil.resolve_name(self.implementation)()
