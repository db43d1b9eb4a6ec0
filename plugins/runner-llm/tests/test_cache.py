"""The LLM response cache: what its key covers, concurrent writers, and whole runs that replay
answers (no model call, the first run's tokens and cost, identical metrics)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from runner import InputError
from runner.config import resolve
from runner.plugins import load_plugins
from runner.registry import Registry
from runner.runs import RunOutcome, execute, run_experiment
from runner.testing import ChatServer
from runner_llm.backends import BackendParams, Completion
from runner_llm.backends.openai import OpenAIBackend
from runner_llm.cache import ResponseCache
from runner_llm.plugin import METRICS

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
ANSWER = Completion("Paris", 9, 1, 0.25, "m", "stop")
#: Declared metrics that must not change when answers are replayed: all but cache_hits.
RESULTS = {m.name for m in METRICS} - {"cache_hits"}


def _cache(path: Path, read: bool = True, **params: Any) -> ResponseCache:
    settings = BackendParams(**{"backend": "openai", "llm_model": "m", **params})
    return ResponseCache(OpenAIBackend(settings), settings, read=read, path=path)


def test_a_stored_answer_is_replayed_exactly(tmp_path: Path) -> None:
    cache = _cache(tmp_path / "c.sqlite3")
    assert cache.get(QUESTION) is None
    cache.put(QUESTION, ANSWER)
    assert cache.get(QUESTION) == ANSWER  # text, tokens, latency, model, finish reason
    assert _cache(tmp_path / "c.sqlite3", read=False).get(QUESTION) is None  # --no-cache


@pytest.mark.parametrize("change", [
    {"seed": 1},  # always in the key, even when greedy: repeats run with seed, seed+1, ...
    {"temperature": 0.5},
    {"max_tokens": 12},
    {"llm_model": "other"},
    {"base_url": "http://127.0.0.1:9/v1"},
])
def test_everything_that_determines_the_answer_is_in_the_key(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    _cache(tmp_path / "c.sqlite3").put(QUESTION, ANSWER)
    assert _cache(tmp_path / "c.sqlite3", **change).get(QUESTION) is None
    other = [{"role": "user", "content": "What is the capital of Spain?"}]
    assert _cache(tmp_path / "c.sqlite3").get(other) is None
    # what does not decide the answer does not split the cache
    assert _cache(tmp_path / "c.sqlite3", timeout_sec=5, max_retries=0).get(QUESTION) == ANSWER


WRITER = """
import sys
from pathlib import Path
from runner_llm.backends import BackendParams, Completion
from runner_llm.backends.openai import OpenAIBackend
from runner_llm.cache import ResponseCache

params = BackendParams(backend="openai", llm_model="m")
cache = ResponseCache(OpenAIBackend(params), params, path=Path(sys.argv[1]))
tag = sys.argv[2]
for i in range(100):
    cache.put([{"role": "user", "content": f"{tag} {i}"}], Completion(f"{tag}{i}", 1, 1, 0.1, "m"))
"""


@pytest.mark.slow
def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag])
               for tag in ("a", "b")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    cache = _cache(path)
    for tag in ("a", "b"):
        for i in range(100):
            found = cache.get([{"role": "user", "content": f"{tag} {i}"}])
            assert found is not None and found.text == f"{tag}{i}"


# --- whole runs against the loopback OpenAI-compatible server -----------------------------------


def _overrides(server: ChatServer, prices: Path, **extra: Any) -> dict[str, Any]:
    return {"backend": "openai", "llm_model": "test-model", "base_url": server.base_url,
            "api_key_env": None, "max_retries": 0, "max_items": 3, "pricing_file": str(prices),
            **extra}


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  test-model: {input_per_1m: 1000, output_per_1m: 2000}\n")
    return path


def _rows(tracking_uri: str, outcome: RunOutcome) -> list[dict[str, Any]]:
    table = json.loads(Path(MlflowClient(tracking_uri).download_artifacts(
        outcome.run_id, "items.json")).read_text())
    return [dict(zip(table["columns"], row)) for row in table["data"]]


def _results(outcome: RunOutcome) -> dict[str, float]:
    return {k: v for k, v in outcome.metrics.items() if k in RESULTS}


@pytest.mark.slow
def test_a_second_run_replays_answers_with_their_tokens_and_cost(
    fake_llm: ChatServer, tracking_uri: str, prices: Path
) -> None:
    fake_llm.answers = {"France": "Paris", "Japan": "Tokyo"}
    first = run_experiment("llm-prompt", _overrides(fake_llm, prices), tracking_uri=tracking_uri)
    assert first.status == "FINISHED", first.error
    assert len(fake_llm.requests) == 3 and first.metrics["cache_hits"] == 0

    fake_llm.answers = {}  # the server would answer differently now: a replay cannot tell
    second = run_experiment("llm-prompt", _overrides(fake_llm, prices), tracking_uri=tracking_uri)
    assert second.status == "FINISHED", second.error
    assert len(fake_llm.requests) == 3  # no model call
    assert second.metrics["cache_hits"] == 3
    assert _results(second) == _results(first)  # every result, latency and tokens included
    assert second.metrics["api_cost_usd"] == first.metrics["api_cost_usd"] > 0  # honest cost
    one, two = _rows(tracking_uri, first), _rows(tracking_uri, second)
    assert [r["cached"] for r in one] == [False] * 3 and [r["cached"] for r in two] == [True] * 3
    strip = [{k: v for k, v in r.items() if k != "cached"} for r in (*one, *two)]
    assert strip[:3] == strip[3:]  # same answers, tokens, latency and scores per item

    # changing only the checks re-checks the stored answers: no call, the same cost
    checked = run_experiment("llm-prompt", _overrides(
        fake_llm, prices, checks=[{"type": "icontains"}]), tracking_uri=tracking_uri)
    assert len(fake_llm.requests) == 3 and checked.metrics["cache_hits"] == 3
    assert checked.metrics["pass_rate"] == pytest.approx(2 / 3)
    assert checked.metrics["api_cost_usd"] == first.metrics["api_cost_usd"]


@pytest.mark.slow
def test_no_cache_calls_the_model_and_refreshes_the_cache(
    fake_llm: ChatServer, tracking_uri: str, prices: Path
) -> None:
    def run(use_cache: bool) -> RunOutcome:
        resolved = resolve("llm-prompt", _overrides(fake_llm, prices), plugins=plugins,
                           registry=Registry())
        return execute(resolved, plugins, tracking_uri=tracking_uri, use_cache=use_cache)

    plugins = load_plugins()
    fake_llm.default_answer = "old"
    run(use_cache=True)
    fake_llm.default_answer = "new"
    fresh = run(use_cache=False)
    assert len(fake_llm.requests) == 6 and fresh.metrics["cache_hits"] == 0
    replayed = run(use_cache=True)
    assert len(fake_llm.requests) == 6 and replayed.metrics["cache_hits"] == 3
    assert {r["response"] for r in _rows(tracking_uri, replayed)} == {"new"}


@pytest.mark.slow
def test_a_run_with_checks_logs_pass_rate_and_per_item_outcomes(
    fake_llm: ChatServer, tracking_uri: str, prices: Path, tmp_path: Path
) -> None:
    items = tmp_path / "set.jsonl"
    items.write_text("\n".join(json.dumps(r) for r in [
        {"question": "Capital of France?", "expected": "Paris"},
        {"question": "Capital of Japan?", "expected": "Tokyo",
         "checks": [{"type": "not-contains", "value": "Kyoto"}]},
        {"question": "Give JSON", "checks": [{"type": "is-json"}]},
    ]) + "\n")
    fake_llm.answers = {"France": "Paris", "Japan": "Kyoto", "JSON": '{"a": 1}'}
    outcome = run_experiment("llm-prompt", _overrides(
        fake_llm, prices, input_path=str(items), checks=[{"type": "latency", "threshold": 60}]),
        tracking_uri=tracking_uri)
    assert outcome.status == "FINISHED", outcome.error
    assert outcome.metrics["pass_rate"] == pytest.approx(2 / 3)
    rows = _rows(tracking_uri, outcome)
    assert [r["passed"] for r in rows] == [True, False, True]
    assert [r["failure"] for r in rows] == ["", "not-contains 'Kyoto': found 'Kyoto'", ""]
    run = MlflowClient(tracking_uri).get_run(outcome.run_id)
    assert json.loads(run.data.params["checks"]) == [{"type": "latency", "threshold": 60.0}]
    scores = run.data.tags["runner.items.scores"].split(",")  # what `runner compare` tests
    assert {"passed", "latency_sec", "prompt_tokens", "token_f1"} <= set(scores)
    assert "cached" not in scores


@pytest.mark.slow
def test_without_checks_there_is_no_pass_rate(
    fake_llm: ChatServer, tracking_uri: str, prices: Path
) -> None:
    outcome = run_experiment("llm-prompt", _overrides(fake_llm, prices), tracking_uri=tracking_uri)
    assert "pass_rate" not in outcome.metrics
    assert not {"passed", "failure"} & set(_rows(tracking_uri, outcome)[0])


@pytest.mark.slow
def test_bad_checks_fail_before_a_run_exists(tracking_uri: str) -> None:
    with pytest.raises(InputError, match=r"checks\.0: unknown check type 'icontain'"):
        run_experiment("llm-prompt", {"checks": [{"type": "icontain"}]},
                       tracking_uri=tracking_uri)
    with pytest.raises(InputError, match="check 'cost' needs a price for model"):
        run_experiment("llm-prompt", {"checks": [{"type": "cost", "threshold": 0.01}],
                                      "max_items": 1}, tracking_uri=tracking_uri)
    experiment = MlflowClient(tracking_uri).get_experiment_by_name("llm-experiments")
    assert experiment is None or not MlflowClient(tracking_uri).search_runs(
        [experiment.experiment_id])


def test_an_unusable_cache_file_is_one_line_before_a_run(tmp_path: Path) -> None:
    not_a_cache = tmp_path / "c.sqlite3"
    not_a_cache.write_text("this is not a database")
    with pytest.raises(InputError, match=r"response cache .*c.sqlite3 cannot be opened .*"
                                         r"RUNNER_LLM_RESPONSE_CACHE"):
        _cache(not_a_cache)
