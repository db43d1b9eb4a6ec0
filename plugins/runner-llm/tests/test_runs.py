"""Whole llm-prompt runs through the core, against the loopback chat-completions server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient

from runner import InputError
from runner.inputs import text_digest
from runner.runs import run_experiment
from runner.store.names import CONTENT_KEY_TAG, INPUT_DIGEST_TAG_PREFIX
from runner.builtin.ledger import LEDGER_METRICS
from runner_llm import prompts
from runner_llm.plugin import METRICS

DECLARED = {m.name for m in METRICS}
LEDGER = {m.name for m in LEDGER_METRICS}  # the core's cost ledger, on every run

pytestmark = pytest.mark.slow

KEY = "sk-never-log-me-42"


def _overrides(server: Any, **extra: Any) -> dict[str, Any]:
    return {"backend": "openai", "llm_model": "test-model", "base_url": server.base_url,
            "api_key_env": "RUNNER_LLM_TEST_KEY", "max_retries": 0, "timeout_sec": 5,
            "max_items": 4, **extra}


def _artifact(client: MlflowClient, run_id: str, name: str) -> str:
    return Path(client.download_artifacts(run_id, name)).read_text()


def _traces(tracking_uri: str, run_id: str) -> list[Any]:
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.flush_trace_async_logging()
    experiment_id = MlflowClient(tracking_uri).get_run(run_id).info.experiment_id
    return mlflow.search_traces(locations=[experiment_id], run_id=run_id, return_type="list")


def test_run_logs_params_metrics_artifacts_and_traces(
    fake_llm: Any, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_LLM_TEST_KEY", KEY)
    fake_llm.answers = {"France": "Paris", "Japan": "The capital is Tokyo."}
    with pytest.warns(RuntimeWarning, match="no price for model 'test-model'"):
        outcome = run_experiment("llm-prompt", _overrides(fake_llm, prompt_version=2),
                                 tracking_uri=tracking_uri)
    assert outcome.status == "FINISHED", outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert (params["prompt_name"], params["prompt_version"]) == ("qa", "2")
    assert params["prompt_uri"] == "prompts:/qa/1"
    assert (params["llm_model"], params["backend"]) == ("test-model", "openai")
    assert {"temperature", "max_tokens", "base_url", "seed"} <= set(params)
    # what the openai backend does not read is not an MLflow param; config.json keeps it
    assert not {"usd_per_hour", "input", "expected"} & set(params)
    config = json.loads(_artifact(client, outcome.run_id, "config.json"))
    assert config["params"]["usd_per_hour"] == 0.1 and "input" in config["params"]
    # 4 items: Paris (exact), Tokyo (contained), two 'unknown'
    assert metrics["exact_match"] == pytest.approx(1 / 4)
    assert metrics["contains_match"] == pytest.approx(2 / 4)
    sent = [r["json"]["messages"][0]["content"] for r in fake_llm.requests]
    usage = sum(len(s.split()) for s in sent) + sum(len(a.split()) for a in
                                                     ["Paris", "The capital is Tokyo.",
                                                      "unknown", "unknown"])
    assert metrics["tokens_used"] == usage
    assert metrics["latency_p50_sec"] <= metrics["latency_p95_sec"]
    # an unknown API price adds nothing to the ledger's cost_usd (compute only): warned, tagged
    assert metrics["api_cost_usd"] == 0
    assert metrics["cost_usd"] == pytest.approx(metrics["compute_cost_usd"])
    assert tags["runner.llm.price_unknown"] == "test-model"
    assert metrics["items_with_expected"] == 4
    assert set(metrics) <= DECLARED | LEDGER, set(metrics) - DECLARED - LEDGER  # all in `show`
    # per-item scores, latency and tokens are rows of the per-item table, not run metrics
    assert not [name for name in metrics if name.startswith("item_")]

    prompt_txt = _artifact(client, outcome.run_id, "prompt.txt")
    assert "{{question}}" in prompt_txt and sent[0] in prompt_txt
    assert "Tokyo" in _artifact(client, outcome.run_id, "response.txt")
    table = json.loads(_artifact(client, outcome.run_id, "items.json"))
    assert len(table["data"]) == 4 and "rendered_prompt" in table["columns"]
    rows = [dict(zip(table["columns"], row)) for row in table["data"]]
    assert [r["exact_match"] for r in rows] == [1.0, 0.0, 0.0, 0.0]
    assert [r["contains_match"] for r in rows] == [1.0, 1.0, 0.0, 0.0]
    assert all(r["latency_sec"] > 0 and r["prompt_tokens"] > 0 for r in rows)
    assert sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows) == usage

    traces = _traces(tracking_uri, outcome.run_id)
    assert len(traces) == 4
    span = traces[0].data.spans[0]
    assert span.span_type == "LLM"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] > 0

    logged = json.dumps([params, tags]) + prompt_txt + _artifact(client, outcome.run_id,
                                                                 "config.json")
    assert KEY not in logged
    assert fake_llm.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"


def test_pricing_file_gives_cost(fake_llm: Any, tracking_uri: str, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  test-model: {input_per_1m: 1000, output_per_1m: 2000}\n")
    outcome = run_experiment("llm-prompt", _overrides(fake_llm, pricing_file=str(prices)),
                             tracking_uri=tracking_uri)
    m = outcome.metrics
    # the API price goes to the core's ledger: cost_usd = compute + API cost
    assert m["api_cost_usd"] == pytest.approx(
        (m["prompt_tokens"] * 1000 + m["completion_tokens"] * 2000) / 1e6
    )
    assert m["api_cost_usd"] > 0
    assert m["cost_usd"] == pytest.approx(m["compute_cost_usd"] + m["api_cost_usd"])


def test_failure_mid_run_keeps_answered_items(fake_llm: Any, tracking_uri: str) -> None:
    fake_llm.answers = {"France": "Paris"}
    fake_llm.script = [fake_llm.reply(), fake_llm.reply(),
                       fake_llm.reply(401, {"error": {"message": "key revoked"}})]
    outcome = run_experiment("llm-prompt", _overrides(fake_llm), tracking_uri=tracking_uri)
    assert outcome.status == "FAILED"
    assert "BackendAuthError" in outcome.error and "401" in outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    tags, metrics = run.data.tags, run.data.metrics
    # the core evaluated and logged the partial results; evaluating them raised nothing
    assert tags["runner.llm.items_answered"] == "2/4"
    assert "runner.partial_error" not in tags
    assert metrics["items"] == 2 and metrics["items_with_expected"] == 2
    sent = fake_llm.prompts[:2]
    assert metrics["tokens_used"] == sum(len(p.split()) for p in sent) + sum(
        len(("Paris" if "France" in p else "unknown").split()) for p in sent)
    table = json.loads(_artifact(client, outcome.run_id, "items.json"))
    rows = [dict(zip(table["columns"], row)) for row in table["data"]]
    assert [r["rendered_prompt"] for r in rows] == sent
    assert metrics["exact_match"] == pytest.approx(sum(r["exact_match"] for r in rows) / 2)
    assert [r["index"] for r in rows] == [0, 1] and all(r["latency_sec"] > 0 for r in rows)


def test_failure_before_any_answer_logs_nothing_partial(fake_llm: Any, tracking_uri: str) -> None:
    fake_llm.script = [fake_llm.reply(401, {"error": {"message": "key revoked"}})]
    outcome = run_experiment("llm-prompt", _overrides(fake_llm), tracking_uri=tracking_uri)
    assert outcome.status == "FAILED"
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.data.tags["runner.llm.items_answered"] == "0/4"
    assert "runner.partial_error" not in run.data.tags  # evaluate/log returned early
    assert "items" not in run.data.metrics
    assert "items.json" not in {a.path for a in client.list_artifacts(outcome.run_id)}


def test_prompt_registry_dedupes_and_versions(
    fake_llm: Any, tracking_uri: str, tmp_path: Path
) -> None:
    def uri(**extra: Any) -> str:
        outcome = run_experiment("llm-prompt", _overrides(fake_llm, max_items=1, **extra),
                                 tracking_uri=tracking_uri)
        return MlflowClient(tracking_uri).get_run(outcome.run_id).data.params["prompt_uri"]

    assert uri() == "prompts:/qa/1"
    assert uri() == "prompts:/qa/1"  # same text: no new version
    mine = tmp_path / "prompts" / "qa"
    mine.mkdir(parents=True)
    (mine / "v1.txt").write_text("Reply tersely. {{question}}\n")
    assert uri(prompts_dir=str(tmp_path / "prompts")) == "prompts:/qa/2"
    assert uri(prompt_version=3) == "prompts:/qa/3"
    assert uri() == "prompts:/qa/1"
    versions = MlflowClient(tracking_uri).search_prompt_versions("qa")
    assert len(versions.to_list() if hasattr(versions, "to_list") else versions) == 3


def _no_runs(tracking_uri: str) -> bool:
    client = MlflowClient(tracking_uri)
    exp = client.get_experiment_by_name("llm-experiments")
    return exp is None or not client.search_runs([exp.experiment_id])


def test_bad_inputs_fail_before_a_run_exists(tracking_uri: str, tmp_path: Path) -> None:
    bad = tmp_path / "in.jsonl"
    bad.write_text('{"question": "ok?"}\n{"query": "where?"}\n')
    with pytest.raises(InputError, match="line 2: missing prompt variable 'question'"):
        run_experiment("llm-prompt", {"input_path": str(bad)}, tracking_uri=tracking_uri)
    with pytest.raises(InputError, match="unknown local model 'no-such-model'"):
        run_experiment("llm-prompt", {"llm_model": "no-such-model"}, tracking_uri=tracking_uri)
    not_gguf = tmp_path / "broken.gguf"
    not_gguf.write_bytes(b"<html>not a model</html>")
    with pytest.raises(InputError, match=r"model file '.*broken.gguf' is not a GGUF file"):
        run_experiment("llm-prompt", {"llm_model": str(not_gguf)}, tracking_uri=tracking_uri)
    with pytest.raises(InputError, match=r"unknown backend 'bard'; choose one of .*local"):
        run_experiment("llm-prompt", {"backend": "bard"}, tracking_uri=tracking_uri)
    with pytest.raises(InputError, match="max_items: Input should be a valid integer"):
        run_experiment("llm-prompt", {"max_items": True}, tracking_uri=tracking_uri)
    assert _no_runs(tracking_uri)


def test_single_input_without_expected(fake_llm: Any, tracking_uri: str) -> None:
    fake_llm.answers = {"moon": "No."}
    overrides = _overrides(fake_llm, input="Is the moon made of cheese?")
    del overrides["max_items"]
    outcome = run_experiment("llm-prompt", overrides, tracking_uri=tracking_uri)
    assert outcome.status == "FINISHED", outcome.error
    assert outcome.metrics["items"] == 1 and "token_f1" not in outcome.metrics
    client = MlflowClient(tracking_uri)
    table = json.loads(_artifact(client, outcome.run_id, "items.json"))
    assert table["data"][0][table["columns"].index("response")] == "No."
    template = prompts.load_template("qa", 1)  # the default prompt, rendered with the input
    assert [r["json"]["messages"][0]["content"] for r in fake_llm.requests] == \
        [prompts.render(template, {"question": "Is the moon made of cheese?"})]


def test_the_prompt_text_is_in_the_content_key(
    fake_llm: Any, tracking_uri: str, tmp_path: Path
) -> None:
    template = tmp_path / "prompts" / "qa" / "v1.txt"
    template.parent.mkdir(parents=True)

    def tags_after(text: str) -> dict[str, str]:
        template.write_text(text)
        overrides = _overrides(fake_llm, max_items=1, prompts_dir=str(tmp_path / "prompts"))
        outcome = run_experiment("llm-prompt", overrides, tracking_uri=tracking_uri)
        return MlflowClient(tracking_uri).get_run(outcome.run_id).data.tags

    first, edited = tags_after("{{question}}\n"), tags_after("Tersely: {{question}}\n")
    assert first[f"{INPUT_DIGEST_TAG_PREFIX}prompt"] == text_digest("{{question}}")
    assert edited[f"{INPUT_DIGEST_TAG_PREFIX}prompt"] == text_digest("Tersely: {{question}}")
    assert first[CONTENT_KEY_TAG] != edited[CONTENT_KEY_TAG]  # same params, other run
