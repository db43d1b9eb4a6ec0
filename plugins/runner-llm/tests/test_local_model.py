"""The real SmolLM2-135M through the local backend, and a whole run read back from MLflow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from runner.runs import run_experiment
from runner_llm.backends import BackendParams, get_backend, is_local
from runner_llm.backends.models import converted_dir, resolve_model
from runner_llm.cache import model_identity
from runner_llm.plugin import METRICS
from runner_llm.quality import SCORERS, score_all

pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def test_local_backend_is_cached_greedy_and_counts_tokens() -> None:
    backend = get_backend(BackendParams(max_tokens=12))
    assert get_backend(BackendParams(max_tokens=12)) is backend
    assert is_local(backend)  # priced by compute time
    assert backend.files == resolve_model("SmolLM2-135M-Instruct").gguf_path  # in the content key
    sampled = get_backend(BackendParams(max_tokens=12, temperature=0.7))
    assert sampled is not backend and sampled.loaded is backend.loaded  # one model in memory
    first, second = backend.complete(QUESTION), backend.complete(QUESTION)
    assert first.text and first.text == second.text  # greedy decoding is deterministic
    assert 0 < first.completion_tokens <= 12
    assert first.prompt_tokens > len("What is the capital of France?".split())
    assert converted_dir(resolve_model("SmolLM2-135M-Instruct")).joinpath(
        "model.safetensors").is_file()


def test_local_run_answers_items_and_reads_back(tracking_uri: str) -> None:
    outcome = run_experiment(
        "llm-prompt", {"max_items": 3, "max_tokens": 16, "prompt_version": 2},
        tracking_uri=tracking_uri,
    )
    assert outcome.status == "FINISHED", outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    metrics = run.data.metrics
    table = json.loads(Path(client.download_artifacts(outcome.run_id, "items.json")).read_text())
    rows = [dict(zip(table["columns"], row)) for row in table["data"]]
    assert len(rows) == 3 and metrics["items"] == 3
    assert any(r["response"].strip() for r in rows)
    assert metrics["prompt_tokens"] == sum(r["prompt_tokens"] for r in rows)
    assert metrics["completion_tokens"] == sum(r["completion_tokens"] for r in rows)
    assert all(r["completion_tokens"] <= 16 for r in rows)
    assert metrics["tokens_used"] == metrics["prompt_tokens"] + metrics["completion_tokens"]
    assert metrics["tokens_per_sec"] == pytest.approx(
        metrics["completion_tokens"] / (metrics["latency_sec"] * 3), rel=1e-6
    )
    # local: the cost is compute time, priced by the core's ledger; no API price, no warning
    assert metrics["api_cost_usd"] == 0 and metrics["cost_usd"] > 0
    assert "runner.llm.price_unknown" not in run.data.tags
    for row in rows:  # each item's scores, and the run's means of them
        expected = json.loads(row["expected"]) if row["expected"].startswith("[") \
            else row["expected"]
        assert {k: row[k] for k in SCORERS} == pytest.approx(score_all(row["response"], expected))
    for name in SCORERS:
        assert metrics[name] == pytest.approx(sum(r[name] for r in rows) / 3)
    assert run.data.params["backend"] == "local"
    assert run.data.tags["runner.input_digest.llm_model"]  # the model file, by its bytes
    assert run.data.params["prompt_uri"] == "prompts:/qa/1"  # v2, the first version registered


def test_a_local_run_replays_from_the_cache_keyed_on_the_model_bytes(tracking_uri: str) -> None:
    overrides = {"max_items": 2, "max_tokens": 8}
    first = run_experiment("llm-prompt", overrides, tracking_uri=tracking_uri)
    second = run_experiment("llm-prompt", overrides, tracking_uri=tracking_uri)
    assert (first.metrics["cache_hits"], second.metrics["cache_hits"]) == (0, 2)
    results = {m.name for m in METRICS} - {"cache_hits"}
    assert {k: v for k, v in second.metrics.items() if k in results} == \
        {k: v for k, v in first.metrics.items() if k in results}
    # the key names the model by the digest the content key has for it
    params = BackendParams(max_tokens=8)
    tags = MlflowClient(tracking_uri).get_run(first.run_id).data.tags
    assert model_identity(get_backend(params), params)["model_digest"] == \
        tags["runner.input_digest.llm_model"]


WARM_RUN = """
import json, sys
from runner.runs import run_experiment
from runner_llm.backends import local

outcome = run_experiment("llm-prompt", json.loads(sys.argv[2]), tracking_uri=sys.argv[1])
print(json.dumps({"status": outcome.status, "run_id": outcome.run_id,
                  "metrics": outcome.metrics, "loaded": list(local._LOADED),
                  "imported": sorted({"torch", "transformers"} & set(sys.modules))}))
"""


def test_a_run_whose_answers_are_all_cached_never_loads_the_model(tracking_uri: str) -> None:
    overrides = {"max_items": 2, "max_tokens": 8}
    first = run_experiment("llm-prompt", overrides, tracking_uri=tracking_uri)
    assert first.status == "FINISHED", first.error
    # a fresh process, as a user's second `runner run`, with the same response cache file
    done = subprocess.run(
        [sys.executable, "-c", WARM_RUN, tracking_uri, json.dumps(overrides)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    warm = json.loads(done.stdout.splitlines()[-1])
    assert warm["status"] == "FINISHED" and warm["metrics"]["cache_hits"] == 2
    assert warm["loaded"] == [] and warm["imported"] == []  # no weights, no torch/transformers
    results = {m.name for m in METRICS} - {"cache_hits"}
    assert {k: v for k, v in warm["metrics"].items() if k in results} == \
        {k: v for k, v in first.metrics.items() if k in results}  # tokens and latency replayed
    client = MlflowClient(tracking_uri)
    digests = [client.get_run(run_id).data.tags["runner.input_digest.llm_model"]
               for run_id in (first.run_id, warm["run_id"])]
    assert digests[0] == digests[1]  # the model file is still an input, digested unloaded
