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
