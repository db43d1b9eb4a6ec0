"""The llm generator through runner-llm: the fake OpenAI-style server, and local SmolLM2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import pytest
from runner.runs import run_experiment
from runner.testing import ChatServer

from runner_rag.data import load_questions, shipped_questions_path

pytestmark = pytest.mark.slow

#: Four shipped questions answered by the LLM over bm25's top 2 chunks.
LLM_RUN = {"generator": "llm", "max_questions": 4, "retriever": "bm25", "top_k": 2}


def _fake_llm_run(fake_llm: ChatServer, **extra: Any) -> dict[str, Any]:
    """Overrides for an llm run against ``fake_llm`` as model ``rag-test`` (no API key)."""
    fake_llm.default_answer = "I don't know"
    return {**LLM_RUN, "backend": "openai", "llm_model": "rag-test", "api_key_env": None,
            "base_url": fake_llm.base_url, **extra}


def _rows(client: mlflow.MlflowClient, run_id: str) -> list[dict[str, Any]]:
    table = json.loads(Path(client.download_artifacts(run_id, "items.json")).read_text())
    return [dict(zip(table["columns"], row)) for row in table["data"]]


def test_llm_answers_with_registered_prompt_tokens_and_cost(
    tracking_uri: str, fake_llm: ChatServer, tmp_path: Path
) -> None:
    questions = load_questions(shipped_questions_path(), limit=4)
    # The server answers two questions with their reference and the others "I don't know".
    fake_llm.answers = {q.question: q.answer for q in questions[:2]}
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"models": {"rag-test": {"input_per_1m": 1.0, "output_per_1m": 2.0}}})
    )
    outcome = run_experiment(
        "rag", _fake_llm_run(fake_llm, pricing_file=str(prices)), tracking_uri=tracking_uri
    )
    assert outcome.status == "FINISHED", outcome.error
    m = outcome.metrics
    # Every prompt carries the question and the numbered retrieved passages.
    assert len(fake_llm.prompts) == 4
    for q, prompt in zip(questions, fake_llm.prompts):
        assert f"Question: {q.question}" in prompt and "[1] (" in prompt and "[2] (" in prompt
    words = sum(len(p.split()) for p in fake_llm.prompts)
    answers = [q.answer for q in questions[:2]] + ["I don't know"] * 2
    completion_words = sum(len(a.split()) for a in answers)
    assert m["tokens_used"] == words + completion_words
    # the API price goes to the core's cost ledger: cost_usd = compute + API cost
    assert m["api_cost_usd"] == pytest.approx((words * 1.0 + completion_words * 2.0) / 1e6)
    assert m["cost_usd"] == pytest.approx(m["compute_cost_usd"] + m["api_cost_usd"])
    client = mlflow.MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.data.params["prompt_uri"] == "prompts:/rag/1"
    params = run.data.params  # the LLM ran: its fields are params, but not the local price
    assert (params["llm_model"], params["prompt_version"], params["backend"]) == \
        ("rag-test", "1", "openai")
    assert "usd_per_hour" not in params and "rrf_k" not in params
    rows = _rows(client, outcome.run_id)
    right, wrong = rows[:2], rows[2:]
    assert min(r["answer_relevance"] for r in right) > max(r["answer_relevance"] for r in wrong)
    assert all(r["token_f1"] == 1.0 for r in right)
    prompt_txt = Path(client.download_artifacts(outcome.run_id, "prompt.txt")).read_text()
    assert prompt_txt.startswith("# template rag v1") and "{{context}}" in prompt_txt
    response = Path(client.download_artifacts(outcome.run_id, "response.txt")).read_text()
    assert response.count("I don't know") == 2


def test_llm_failure_mid_run_keeps_the_answers_already_given(
    tracking_uri: str, fake_llm: ChatServer
) -> None:
    questions = load_questions(shipped_questions_path(), limit=4)
    fake_llm.answers = {q.question: q.answer for q in questions}
    fake_llm.script = [
        fake_llm.reply(),
        fake_llm.reply(),
        fake_llm.reply(401, {"error": {"message": "key revoked"}}),
    ]
    with pytest.warns(RuntimeWarning, match="no price for model 'rag-test'"):
        outcome = run_experiment(
            "rag", _fake_llm_run(fake_llm, max_retries=0), tracking_uri=tracking_uri
        )
    assert outcome.status == "FAILED"
    assert "401" in outcome.error
    assert len(fake_llm.requests) == 3  # stopped at the failing call
    client = mlflow.MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    # The core evaluated and logged the partial results (ctx.partial), without a second error.
    assert run.data.tags["runner.llm.items_answered"] == "2/4"
    assert "runner.partial_error" not in run.data.tags
    # Unknown price: a warning and a tag, never a silent cost_usd of 0.
    assert run.data.tags["runner.llm.price_unknown"] == "rag-test"
    assert run.data.metrics["api_cost_usd"] == 0  # the ledger's cost_usd is compute only
    rows = _rows(client, outcome.run_id)
    assert [r["answer"] for r in rows] == [q.answer for q in questions[:2]]
    response = Path(client.download_artifacts(outcome.run_id, "response.txt")).read_text()
    assert all(q.answer in response for q in questions[:2])
    m = run.data.metrics
    assert m["token_f1"] == 1.0
    assert m["hit_rate_at_k"] == pytest.approx(sum(r["hit_rate_at_k"] for r in rows) / 2)
    words = sum(len(p.split()) for p in fake_llm.prompts[:2])
    assert m["tokens_used"] == words + sum(len(q.answer.split()) for q in questions[:2])
    # per-question latency and tokens are columns of the table, not run metrics
    assert not [name for name in m if name.startswith("item_")]
    assert all(r["generation_latency_sec"] > 0 for r in rows)
    assert sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows) == m["tokens_used"]


def test_local_smollm2_answers_from_context(tracking_uri: str) -> None:
    # The user's cache: SmolLM2 is converted from GGUF once per machine, shared with runner-llm.
    outcome = run_experiment(
        "rag", {**LLM_RUN, "max_questions": 1, "max_tokens": 16}, tracking_uri=tracking_uri
    )
    assert outcome.status == "FINISHED", outcome.error
    m = outcome.metrics
    assert m["tokens_used"] == m["prompt_tokens"] + m["completion_tokens"]
    assert 0 < m["completion_tokens"] <= 16
    # local: its cost is compute time, priced by the core's ledger; no API price
    assert m["api_cost_usd"] == 0 and m["cost_usd"] == pytest.approx(m["compute_cost_usd"])
    (row,) = _rows(mlflow.MlflowClient(tracking_uri), outcome.run_id)
    assert m["faithfulness"] == pytest.approx(row["faithfulness"])
    assert m["generation_latency_sec"] == pytest.approx(row["generation_latency_sec"])
