"""Load a corpus (folder of .txt/.md files) and its questions (JSONL), and check they fit.

Every problem a user can fix is an :class:`~runner.InputError` with one clear line, raised from
``runner_prepare`` so no MLflow run is created.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from runner import InputError

#: File suffixes read as documents.
DOC_SUFFIXES = (".txt", ".md")

#: The shipped question files by set: ``basic`` asks in the words of the answer's document;
#: ``hard`` paraphrases it (few shared words) or asks for one detail of a long document.
QUESTION_FILES = {"basic": "questions.jsonl", "hard": "questions_hard.jsonl"}

#: A shipped set's name, or ``all`` (basic, then hard).
QuestionSet = Literal["all", "basic", "hard"]


@dataclass(frozen=True)
class Document:
    """One document: its id (path relative to the corpus folder, no suffix) and its text."""

    doc_id: str
    text: str


@dataclass(frozen=True)
class Question:
    """One evaluation question with its reference answer and the ids of its gold documents."""

    qid: str
    question: str
    answer: str
    doc_ids: tuple[str, ...]


def shipped_corpus_dir() -> Path:
    """The packaged corpus: Python 3.11 standard-library module docstrings (PSF license)."""
    return Path(str(files("runner_rag") / "data" / "corpus"))


def shipped_questions_path(name: Literal["basic", "hard"] = "basic") -> Path:
    """One packaged question file, written by reading the packaged corpus."""
    return Path(str(files("runner_rag") / "data" / QUESTION_FILES[name]))


def shipped_question_paths(question_set: QuestionSet) -> list[Path]:
    """The packaged question files of ``question_set``, in order (``all``: basic, then hard)."""
    if question_set == "all":
        return [shipped_questions_path("basic"), shipped_questions_path("hard")]
    return [shipped_questions_path(question_set)]


def load_corpus(folder: Path) -> list[Document]:
    """Read every .txt/.md file under ``folder`` (recursively), sorted by id.

    :raises InputError: the folder is missing or holds no non-empty document.
    """
    if not folder.is_dir():
        raise InputError(f"corpus_dir {str(folder)!r} is not a folder")
    docs = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in DOC_SUFFIXES):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"corpus file {str(path)!r} is not UTF-8 text") from None
        if text.strip():
            docs.append(Document(path.relative_to(folder).with_suffix("").as_posix(), text))
    if not docs:
        raise InputError(
            f"corpus_dir {str(folder)!r} has no non-empty {'/'.join(DOC_SUFFIXES)} files"
        )
    return docs


def _question(raw: Any, where: str, default_id: str) -> Question:
    """Validate one JSONL object into a :class:`Question`."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a JSON object")
    for key in ("question", "answer"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise InputError(f"{where}: {key!r} must be a non-empty string")
    doc_ids = raw.get("doc_ids")
    if isinstance(doc_ids, str):
        doc_ids = [doc_ids]
    if not isinstance(doc_ids, list) or not doc_ids or not all(isinstance(d, str) for d in doc_ids):
        raise InputError(f"{where}: 'doc_ids' must be a non-empty list of document ids")
    return Question(
        str(raw.get("id") or default_id), raw["question"], raw["answer"], tuple(doc_ids)
    )


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Read the JSONL questions file (blank lines skipped); keep the first ``limit``.

    :raises InputError: the file is missing, a line is not valid JSON or misses a field, or it
        holds no question.
    """
    if not path.is_file():
        raise InputError(f"questions_path {str(path)!r} does not exist")
    questions = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: invalid JSON ({exc.msg})") from None
        questions.append(_question(raw, where, f"q{lineno}"))
    if not questions:
        raise InputError(f"questions_path {str(path)!r} holds no questions")
    return questions[:limit] if limit else questions


def check_gold_ids(questions: list[Question], docs: list[Document]) -> None:
    """Every gold doc id must name a document of the corpus.

    :raises InputError: naming the first question whose gold id is missing.
    """
    known = {d.doc_id for d in docs}
    for q in questions:
        missing = [d for d in q.doc_ids if d not in known]
        if missing:
            raise InputError(
                f"question {q.qid!r} names gold doc id {missing[0]!r}, which is not in the corpus "
                f"({len(known)} documents)"
            )


def corpus_digest(docs: list[Document]) -> str:
    """A content hash of the corpus (ids and texts), used to key cached embeddings."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.doc_id.encode())
        digest.update(b"\0")
        digest.update(doc.text.encode())
        digest.update(b"\0")
    return digest.hexdigest()
