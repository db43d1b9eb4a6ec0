"""The llm generator through runner-llm: a loopback OpenAI-style server, and local SmolLM2."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from runner.runs import run_experiment

from runner_rag.data import load_questions, shipped_questions_path

pytestmark = pytest.mark.slow


def test_llm_answers_with_registered_prompt_tokens_and_cost(
    tracking_uri: str,
    chat_server,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    questions = load_questions(shipped_questions_path(), limit=4)
    # The server answers two questions with their reference and the others "I don't know".
    chat_server.answers = {q.question: q.answer for q in questions[:2]}
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"models": {"rag-test": {"input_per_1m": 1.0, "output_per_1m": 2.0}}})
    )
    outcome = run_experiment(
        "rag",
        {
            "generator": "llm",
            "backend": "openai",
            "llm_model": "rag-test",
            "api_key_env": None,
            "base_url": chat_server.base_url,
            "pricing_file": str(prices),
            "max_questions": 4,
            "retriever": "bm25",
            "top_k": 2,
        },
        tracking_uri=tracking_uri,
    )
    assert outcome.status == "FINISHED", outcome.error
    m = outcome.metrics
    # Every prompt carries the question and the numbered retrieved passages.
    assert len(chat_server.prompts) == 4
    for q, prompt in zip(questions, chat_server.prompts):
        assert f"Question: {q.question}" in prompt and "[1] (" in prompt and "[2] (" in prompt
    words = sum(len(p.split()) for p in chat_server.prompts)
    answers = [q.answer for q in questions[:2]] + ["I don't know"] * 2
    completion_words = sum(len(a.split()) for a in answers)
    assert m["tokens_used"] == words + completion_words
    assert m["cost_usd"] == pytest.approx((words * 1.0 + completion_words * 2.0) / 1e6)
    client = mlflow.MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.data.params["prompt_uri"].startswith("prompts:/rag/")
    table = json.loads(
        Path(client.download_artifacts(outcome.run_id, "items.json")).read_text()
    )
    rows = [dict(zip(table["columns"], row)) for row in table["data"]]
    right, wrong = rows[:2], rows[2:]
    assert min(r["answer_relevance"] for r in right) > max(r["answer_relevance"] for r in wrong)
    assert all(r["token_f1"] == 1.0 for r in right)
    prompt_txt = Path(client.download_artifacts(outcome.run_id, "prompt.txt")).read_text()
    assert prompt_txt.startswith("# template rag v1") and "{{context}}" in prompt_txt
    assert (
        Path(client.download_artifacts(outcome.run_id, "response.txt"))
        .read_text()
        .count("I don't know")
        == 2
    )


def test_llm_failure_mid_run_keeps_the_answers_already_given(
    tracking_uri: str,
    chat_server,  # noqa: ANN001
) -> None:
    questions = load_questions(shipped_questions_path(), limit=4)
    chat_server.answers = {q.question: q.answer for q in questions}
    chat_server.script = [
        chat_server.reply(),
        chat_server.reply(),
        chat_server.reply(401, {"error": {"message": "key revoked"}}),
    ]
    with pytest.warns(RuntimeWarning, match="no price for model 'rag-test'"):
        outcome = run_experiment(
            "rag",
            {
                "generator": "llm",
                "backend": "openai",
                "llm_model": "rag-test",
                "api_key_env": None,
                "base_url": chat_server.base_url,
                "max_retries": 0,
                "max_questions": 4,
                "retriever": "bm25",
                "top_k": 2,
            },
            tracking_uri=tracking_uri,
        )
    assert outcome.status == "FAILED"
    assert "401" in outcome.error
    assert len(chat_server.requests) == 3  # stopped at the failing call
    client = mlflow.MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.data.tags["runner.llm.items_answered"] == "2/4"
    # Unknown price: a warning and a tag, never a silent cost_usd of 0.
    assert run.data.tags["runner.llm.price_unknown"] == "rag-test"
    assert "cost_usd" not in run.data.metrics
    table = json.loads(Path(client.download_artifacts(outcome.run_id, "items.json")).read_text())
    rows = [dict(zip(table["columns"], row)) for row in table["data"]]
    assert [r["answer"] for r in rows] == [q.answer for q in questions[:2]]
    response = Path(client.download_artifacts(outcome.run_id, "response.txt")).read_text()
    assert all(q.answer in response for q in questions[:2])
    m = run.data.metrics
    assert m["token_f1"] == 1.0
    words = sum(len(p.split()) for p in chat_server.prompts[:2])
    assert m["tokens_used"] == words + sum(len(q.answer.split()) for q in questions[:2])
    assert len(client.get_metric_history(outcome.run_id, "item_latency_sec")) == 2


def test_local_smollm2_answers_from_context(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user's cache: SmolLM2 is converted from GGUF once per machine, shared with runner-llm.
    monkeypatch.delenv("RUNNER_CACHE_DIR")
    outcome = run_experiment(
        "rag",
        {"generator": "llm", "max_questions": 1, "max_tokens": 16, "retriever": "bm25", "top_k": 2},
        tracking_uri=tracking_uri,
    )
    assert outcome.status == "FINISHED", outcome.error
    m = outcome.metrics
    assert m["tokens_used"] > m["completion_tokens"] > 0
    assert m["cost_usd"] > 0  # local: generation seconds x usd_per_hour
    assert m["generation_latency_sec"] > 0 and 0 <= m["faithfulness"] <= 1
