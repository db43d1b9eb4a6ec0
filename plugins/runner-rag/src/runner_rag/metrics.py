"""RAG metrics: retrieval against gold doc ids, answer relevance, faithfulness.

Definitions (per question, then averaged over questions):

* ``hit_rate_at_k`` -- 1 if any of the ``top_k`` retrieved chunks comes from a gold document.
* ``mrr`` -- 1 / rank of the first retrieved chunk from a gold document (0 if none in top_k).
* ``context_recall`` -- share of the question's gold documents that at least one retrieved
  chunk comes from.
* ``ndcg_at_k``, ``map_at_k``, ``recall_at_k``, ``precision_at_k`` -- ranx's nDCG@k, MAP@k
  (average precision), recall@k and precision@k with k = ``top_k``, on the *document* ranking:
  the retrieved chunks collapse to their documents, each at the rank of its best chunk, and the
  gold documents are the relevant ones (binary relevance).
* ``answer_relevance`` -- ``max(0, cos(E(answer), E(reference)))`` where ``E`` is the run's
  ``embedding_model`` producing unit-length sentence embeddings; 0 for an empty answer.
* ``faithfulness`` -- share of the answer's content tokens (lower-cased ``\\w+`` words that are
  not English stop words, with repeats) that occur in the retrieved context; 0 for an answer
  with no content token.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

_TOKEN = re.compile(r"\w+")


def retrieval_scores(retrieved_doc_ids: Sequence[str], gold: Iterable[str]) -> dict[str, float]:
    """``hit_rate_at_k``, ``mrr`` and ``context_recall`` of one question's ranked doc ids."""
    gold_set = set(gold)
    first = next((rank for rank, d in enumerate(retrieved_doc_ids, 1) if d in gold_set), None)
    found = gold_set.intersection(retrieved_doc_ids)
    return {
        "hit_rate_at_k": 1.0 if first else 0.0,
        "mrr": 1.0 / first if first else 0.0,
        "context_recall": len(found) / len(gold_set) if gold_set else 0.0,
    }


#: Run metric name -> ranx metric name (``@k`` is appended).
STANDARD_METRICS = {
    "ndcg_at_k": "ndcg",
    "map_at_k": "map",
    "recall_at_k": "recall",
    "precision_at_k": "precision",
}


def ranked_doc_ids(chunk_doc_ids: Sequence[str]) -> list[str]:
    """The distinct documents of a chunk ranking, each at the position of its best chunk."""
    return list(dict.fromkeys(chunk_doc_ids))


def standard_retrieval_scores(
    retrieved: Sequence[Sequence[str]], gold: Sequence[Iterable[str]], k: int
) -> list[dict[str, float]]:
    """Per question (same order as given), the :data:`STANDARD_METRICS` at ``k`` from ranx.

    ``retrieved[i]`` is question i's chunk ranking as doc ids (best first), ``gold[i]`` its
    relevant documents. Each document's run score is ``1 / rank`` of its best chunk, so ranx
    ranks documents exactly as the retriever did and no two scores tie (ranx's sort does not
    break ties in a defined order). Plain dicts, not ``ranx.Qrels``/``Run`` objects: those are
    numba typed dicts, which compile for seconds in every new process (not cacheable); ranx
    pairs the two dicts' queries by insertion order, the same here by construction.
    """
    from numba.core.errors import NumbaTypeSafetyWarning
    from ranx import evaluate  # imports numba and scipy: only when a run is scored

    qrels = {str(i): {doc: 1 for doc in docs} for i, docs in enumerate(gold)}
    run = {
        str(i): {doc: 1.0 / rank for rank, doc in enumerate(ranked_doc_ids(ids), 1)}
        for i, ids in enumerate(retrieved)
    }
    names = {name: f"{ranx_name}@{k}" for name, ranx_name in STANDARD_METRICS.items()}
    with warnings.catch_warnings():  # ranx's nDCG casts its hashed doc ids: harmless
        warnings.simplefilter("ignore", NumbaTypeSafetyWarning)
        per_metric = evaluate(qrels, run, list(names.values()), return_mean=False)
    return [
        {name: float(per_metric[metric][i]) for name, metric in names.items()}
        for i in range(len(run))
    ]


def random_hit_rate(n_chunks: int, gold_chunks: int, k: int) -> float:
    """Expected hit rate of ``k`` chunks drawn at random when ``gold_chunks`` of them are gold."""
    k = min(k, n_chunks)
    if gold_chunks <= 0:
        return 0.0
    if n_chunks - gold_chunks < k:
        return 1.0
    return 1.0 - math.comb(n_chunks - gold_chunks, k) / math.comb(n_chunks, k)


def content_tokens(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` without English stop words (repeats kept)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return [t for t in _TOKEN.findall(text.lower()) if t not in ENGLISH_STOP_WORDS]


def faithfulness(answer: str, context: str) -> float:
    """Share of the answer's content tokens that also occur in ``context``."""
    tokens = content_tokens(answer)
    if not tokens:
        return 0.0
    supported = set(_TOKEN.findall(context.lower()))
    return sum(t in supported for t in tokens) / len(tokens)


def answer_relevance(answer_vectors: np.ndarray, reference_vectors: np.ndarray) -> np.ndarray:
    """Row-wise ``max(0, cosine)`` of unit-length answer and reference embeddings."""
    cosine = np.sum(answer_vectors * reference_vectors, axis=1)
    return np.clip(cosine, 0.0, 1.0)
