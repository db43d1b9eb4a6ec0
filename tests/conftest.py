"""A toy experiment type on a fresh manager; ``tracking_uri`` comes from runner.testing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from pydantic import BaseModel, ConfigDict, Field

from runner import ExperimentType, MetricSpec, RunContext, hookimpl
from runner.plugins import Plugins


class Dataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "toy"
    rows: int = 3


class ToyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(5, ge=0, description="points on the loss curve")
    lr: float = Field(0.1, description="learning rate")
    note: str = Field("", description="free text, may be very long")
    seed: int = 7
    dataset: Dataset = Field(default_factory=Dataset)
    fail_in: str | None = Field(None, description="phase that raises, to test failure paths")

    def inactive_params(self) -> set[str]:
        """An empty note takes no effect: it is not shown as an MLflow param."""
        return set() if self.note else {"note"}


class ToyExperiment:
    """Records one thing per phase so tests can see each phase reached MLflow."""

    def _maybe_fail(self, ctx: RunContext, phase: str) -> None:
        if ctx.params.fail_in == phase:
            raise RuntimeError(f"boom in {phase}")

    @hookimpl
    def runner_prepare(self, ctx: RunContext) -> None:
        import pandas as pd

        offset = float(os.environ.get("TOY_DATA_OFFSET", "0"))
        frame = pd.DataFrame({"x": [row + offset for row in range(ctx.params.dataset.rows)]})
        ctx.log_dataset(frame, name="toy", source=str(ctx.workdir / "toy.csv"))
        ctx.log_param("derived", ctx.params.lr * 2)
        self._maybe_fail(ctx, "prepare")

    @hookimpl
    def runner_execute(self, ctx: RunContext) -> None:
        for step in range(ctx.params.steps):
            ctx.log_metric("loss", 1.0 / (step + 1), step=step)
        self._maybe_fail(ctx, "execute")

    @hookimpl
    def runner_evaluate(self, ctx: RunContext) -> None:
        # seeds other than the default move accuracy a little, so repeats have a spread
        noise = ((ctx.params.seed - 7) * 37 % 11) / 1000
        ctx.log_metric("accuracy", 1.0 - ctx.params.lr + noise + float(os.environ.get("TOY_DRIFT", "0")))
        ctx.log_metric("eval_time_sec", time.perf_counter())
        self._maybe_fail(ctx, "evaluate")

    @hookimpl
    def runner_log(self, ctx: RunContext) -> None:
        ctx.log_text("the response", "response.txt")
        # a note "x,y,z" makes those the items (another input set); each item is scored
        words = ctx.params.note.split(",") if ctx.params.note else ["a", "b"]
        answers = [f"{word} at lr {ctx.params.lr}" for word in words]
        scores = [round(1.0 - ctx.params.lr + i / 100, 4) for i in range(len(words))]
        passed = [score >= 0.8 for score in scores]  # each item's check: accuracy >= 0.8
        ctx.log_items({"input": words, "response": answers, "accuracy": scores, "passed": passed,
                       "failure": ["" if ok else f"accuracy {s} < 0.8"
                                   for ok, s in zip(passed, scores, strict=True)]},
                      key="input", output="response", scores=["accuracy", "passed"])
        self._maybe_fail(ctx, "log")


TOY_TYPE = ExperimentType(
    id="toy",
    params=ToyParams,
    implementation=ToyExperiment,
    experiment_name="toy-experiments",
    description="a toy experiment for core tests",
    metrics=(
        MetricSpec("accuracy", "maximize", "1 - lr", bounds=(0.0, 1.0)),
        MetricSpec("loss", "minimize", "1/(step+1)", per_step=True),
        MetricSpec("eval_time_sec", "minimize", "a clock reading", deterministic=False),
    ),
)


class ToyPlugin:
    @hookimpl
    def runner_register_experiment_types(self, register: Callable[[ExperimentType], None]) -> None:
        register(TOY_TYPE)


@pytest.fixture
def make_plugins(make_plugins: Callable[..., Plugins]) -> Callable[..., Plugins]:
    """The kit's ``make_plugins`` with the toy plugin, and no installed plugins by default."""

    def make(*extra: tuple[str, object], toy: bool = True, installed: bool = False) -> Plugins:
        return make_plugins(*([("toy", ToyPlugin())] if toy else []), *extra, installed=installed)

    return make


@pytest.fixture(autouse=True, scope="session")
def _private_llm_response_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Core tests that run llm-prompt (hostile endpoints, signals) start from an empty LLM
    response cache of their own: scripted loopback replies must never be replayed from an
    earlier session's answers. Subprocesses inherit the variable."""
    path = tmp_path_factory.mktemp("llm-cache") / "responses.sqlite3"
    os.environ["RUNNER_LLM_RESPONSE_CACHE"] = str(path)
