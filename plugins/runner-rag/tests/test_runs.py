"""End to end through the core: every retriever on shipped data, read back from MLflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import pytest
from runner import InputError
from runner.runs import run_experiment
from runner.store.names import INPUT_DIGEST_TAG_PREFIX, ITEMS_SCORES_TAG
from runner_rag.embeddings import EmbeddingCache
from runner.builtin.ledger import LEDGER_METRICS
from runner_rag.plugin import METRICS

#: The type's metrics, and the core's cost ledger every run gets.
DECLARED = {m.name for m in METRICS} | {m.name for m in LEDGER_METRICS}

pytestmark = pytest.mark.slow

EXPERIMENT = "rag-experiments"
SUBSET = {"max_questions": 12}
#: Per-question scores (items.json columns) whose means are the run's metrics.
SCORES = (
    "hit_rate_at_k",
    "mrr",
    "context_recall",
    "ndcg_at_k",
    "map_at_k",
    "recall_at_k",
    "precision_at_k",
    "answer_relevance",
    "faithfulness",
    "token_f1",
    "rouge_l",
)


def _client(uri: str) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(tracking_uri=uri)


def _runs(uri: str) -> list:
    client = _client(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id]) if experiment else []


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the retriever tests: dense embeds the corpus, hybrid reuses it."""
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture
def small_corpus(tmp_path: Path) -> tuple[str, str]:
    """A 12-document slice of the shipped corpus and the shipped questions about it."""
    from runner_rag.data import shipped_corpus_dir, shipped_questions_path

    folder = tmp_path / "small"
    folder.mkdir()
    names = sorted(p.name for p in shipped_corpus_dir().iterdir())[:12]
    for name in names:
        (folder / name).write_text(
            (shipped_corpus_dir() / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    ids = {n.removesuffix(".txt") for n in names}
    rows = [
        r
        for r in shipped_questions_path().read_text().splitlines()
        if set(json.loads(r)["doc_ids"]) <= ids
    ]
    questions = tmp_path / "small.jsonl"
    questions.write_text("\n".join(rows) + "\n")
    return str(folder), str(questions)


@pytest.mark.parametrize("retriever", ["bm25", "tfidf", "dense", "hybrid"])
def test_every_retriever_runs_and_logs_bounded_metrics(
    retriever: str, tracking_uri: str, shared_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_CACHE_DIR", str(shared_cache))
    outcome = run_experiment(
        "rag", {**SUBSET, "retriever": retriever, "top_k": 3}, tracking_uri=tracking_uri
    )
    assert outcome.status == "FINISHED", outcome.error
    run = _client(tracking_uri).get_run(outcome.run_id)
    metrics, params = run.data.metrics, run.data.params
    assert (params["retriever"], params["chunk_size"], params["embedding_model"]) == (
        retriever,
        "512",
        "all-MiniLM-L6-v2",
    )
    # extractive: no LLM ran, so no LLM or prompt field is an MLflow param; config.json has all
    assert not {"llm_model", "prompt_version", "prompt_name", "backend", "temperature",
                "max_tokens", "seed"} & set(params)
    assert ("rrf_k" in params) == (retriever == "hybrid")
    config = json.loads(
        Path(_client(tracking_uri).download_artifacts(outcome.run_id, "config.json")).read_text()
    )
    assert config["params"]["llm_model"] == "SmolLM2-135M-Instruct"
    table = json.loads(
        Path(
            _client(tracking_uri).download_artifacts(outcome.run_id, "items.json")
        ).read_text()
    )
    rows = [dict(zip(table["columns"], row)) for row in table["data"]]
    assert len(rows) == 12
    for name in SCORES:
        assert metrics[name] == pytest.approx(sum(r[name] for r in rows) / 12), name
        assert all(0.0 <= r[name] <= 1.0 for r in rows), name
    for r in rows:  # ranx's document metrics agree with the chunk-based ones where they must
        assert r["recall_at_k"] == pytest.approx(r["context_recall"])
        assert (r["ndcg_at_k"] > 0) == (r["map_at_k"] > 0) == (r["hit_rate_at_k"] == 1.0)
        assert r["precision_at_k"] * 3 == pytest.approx(round(r["precision_at_k"] * 3))  # n/top_k
    # `runner compare` tests exactly these per-question columns between two runs
    assert set(run.data.tags[ITEMS_SCORES_TAG].split(",")) == {
        *SCORES, "latency_sec", "retrieval_latency_sec", "generation_latency_sec"
    }
    assert metrics["hit_rate_at_k"] > 3 * metrics["hit_rate_at_k_random"]
    assert metrics["mrr"] <= metrics["hit_rate_at_k"]
    assert metrics["latency_sec"] == pytest.approx(
        metrics["retrieval_latency_sec"] + metrics["generation_latency_sec"]
    )
    assert metrics["latency_p50_sec"] <= metrics["latency_p95_sec"]
    assert metrics["num_questions"] == 12 and metrics["tokens_used"] == 0
    assert ("embedding_cache_hit" in metrics) == (retriever in ("dense", "hybrid"))
    assert set(metrics) <= DECLARED, set(metrics) - DECLARED  # `runner show` lists them all
    tags = run.data.tags  # every input is in the content key: data, and the embedding model
    assert {f"{INPUT_DIGEST_TAG_PREFIX}{n}" for n in ("corpus", "questions", "embedding_model")} \
        <= set(tags)
    artifacts = {a.path for a in _client(tracking_uri).list_artifacts(outcome.run_id)}
    assert {"items.json", "prompt.txt", "response.txt"} <= artifacts
    assert {
        "retrieved_chunk_ids",
        "retrieved_scores",
        "answer",
        "reference",
        "answer_relevance",
    } <= set(table["columns"])


def test_bm25_hit_rate_on_the_basic_questions_is_far_above_random(tracking_uri: str) -> None:
    outcome = run_experiment(
        "rag", {"retriever": "bm25", "top_k": 3, "question_set": "basic"},
        tracking_uri=tracking_uri,
    )
    metrics = outcome.metrics
    assert metrics["num_questions"] >= 40
    assert metrics["hit_rate_at_k"] >= 0.8
    assert metrics["hit_rate_at_k"] > 5 * metrics["hit_rate_at_k_random"]


def test_embedding_cache_is_hit_on_the_second_run(
    tracking_uri: str, tmp_path: Path, small_corpus: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNNER_CACHE_DIR", str(tmp_path / "cache"))
    saved: list[str] = []  # every cache write: a computed (not loaded) set of chunk embeddings
    real_save = EmbeddingCache.save

    def save(self: EmbeddingCache, key: str, array: Any) -> Path:
        saved.append(key)
        return real_save(self, key, array)

    monkeypatch.setattr(EmbeddingCache, "save", save)
    corpus_dir, questions_path = small_corpus
    overrides = {
        "corpus_dir": corpus_dir,
        "questions_path": questions_path,
        "max_questions": 4,
        "retriever": "dense",
    }
    first = run_experiment("rag", overrides, tracking_uri=tracking_uri)
    assert first.metrics["embedding_cache_hit"] == 0.0 and len(saved) == 1
    cache_file = tmp_path / "cache" / "embeddings" / f"{saved[0]}.npy"
    written = cache_file.stat().st_mtime_ns
    second = run_experiment(
        "rag", {**overrides, "retriever": "hybrid", "top_k": 2}, tracking_uri=tracking_uri
    )
    assert second.metrics["embedding_cache_hit"] == 1.0
    assert len(saved) == 1 and cache_file.stat().st_mtime_ns == written  # nothing recomputed
    tags = _client(tracking_uri).get_run(second.run_id).data.tags
    assert tags["rag.embedding_cache"] == "hit"
    assert Path(tags["rag.embedding_cache_file"]) == cache_file
    changed = run_experiment("rag", {**overrides, "chunk_overlap": 32}, tracking_uri=tracking_uri)
    assert changed.metrics["embedding_cache_hit"] == 0.0  # other chunks -> other key
    assert len(saved) == 2 and saved[1] != saved[0]


def _questions(path: Path, doc_ids: list[str]) -> str:
    path.write_text(json.dumps({"question": "What?", "answer": "That.", "doc_ids": doc_ids}) + "\n")
    return str(path)


def test_user_corpus_and_questions(tracking_uri: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "owls.md").write_text(
        "Owls hunt at night. Barn owls eat mice and voles.", encoding="utf-8"
    )
    (corpus / "bees.txt").write_text(
        "Bees make honey from nectar. A hive has one queen.", encoding="utf-8"
    )
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {"question": "What do barn owls eat?", "answer": "Mice and voles.", "doc_ids": ["owls"]}
        )
        + "\n"
    )
    outcome = run_experiment(
        "rag",
        {
            "corpus_dir": str(corpus),
            "questions_path": str(questions),
            "retriever": "bm25",
            "top_k": 1,
        },
        tracking_uri=tracking_uri,
    )
    assert outcome.metrics["hit_rate_at_k"] == 1.0 and outcome.metrics["num_documents"] == 2
    response = Path(
        _client(tracking_uri).download_artifacts(outcome.run_id, "response.txt")
    ).read_text()
    assert "Barn owls eat mice and voles." in response


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"chunk_overlap": 512},
            "chunk_overlap: Value error, must be smaller than chunk_size \\(512\\) \\(got 512\\)",
        ),
        ({"top_k": 0}, "top_k: Input should be greater than or equal to 1"),
        ({"top_k": True}, "top_k: Input should be a valid integer"),  # a boolean is no number
        ({"max_questions": 2.0}, "max_questions: Input should be a valid integer"),
        ({"retriever": "annoy"}, "retriever: Input should be 'bm25', 'tfidf', 'dense' or 'hybrid'"),
        ({"embedding_model": "no-such-model"}, "unknown embedding_model 'no-such-model'"),
        ({"chunk_sise": 5}, "chunk_sise: unknown key"),
        ({"generator": "llm", "prompt_version": 9}, "prompt 'rag' has no version 9"),
    ],
)
def test_bad_params_are_one_line_and_create_no_run(overrides, message, tracking_uri) -> None:  # noqa: ANN001
    with pytest.raises(InputError, match=message) as err:
        run_experiment("rag", overrides, tracking_uri=tracking_uri)
    assert "\n" not in str(err.value)
    assert _runs(tracking_uri) == []


def test_bad_data_is_one_line_and_creates_no_run(tracking_uri: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="has no non-empty .txt/.md files"):
        run_experiment("rag", {"corpus_dir": str(empty)}, tracking_uri=tracking_uri)
    bad = _questions(tmp_path / "q.jsonl", ["heapq", "no_such_module"])
    with pytest.raises(
        InputError, match="gold doc id 'no_such_module', which is not in the corpus"
    ):
        run_experiment("rag", {"questions_path": bad}, tracking_uri=tracking_uri)
    assert _runs(tracking_uri) == []
