"""The shipped corpus and questions, and loading a user's corpus/questions with clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from runner import InputError

from runner_rag import build_corpus
from runner_rag.data import (
    check_gold_ids,
    corpus_digest,
    load_corpus,
    load_questions,
    shipped_corpus_dir,
    shipped_question_paths,
    shipped_questions_path,
)


def test_shipped_corpus_is_real_prose_with_enough_documents() -> None:
    docs = load_corpus(shipped_corpus_dir())
    assert len(docs) >= 50
    assert {d.doc_id for d in docs} == set(build_corpus.MODULES)
    assert all(len(d.text.split()) >= 40 for d in docs)


@pytest.mark.parametrize("name", ["basic", "hard"])
def test_shipped_questions_have_answers_and_gold_ids_in_the_corpus(name: str) -> None:
    docs = load_corpus(shipped_corpus_dir())
    questions = load_questions(shipped_questions_path(name))
    assert len(questions) >= 40
    check_gold_ids(questions, docs)  # raises if any gold id is missing


def test_question_set_all_is_basic_then_hard_with_distinct_ids() -> None:
    assert shipped_question_paths("all") == [
        shipped_questions_path("basic"),
        shipped_questions_path("hard"),
    ]
    assert shipped_question_paths("hard") == [shipped_questions_path("hard")]
    questions = [q for path in shipped_question_paths("all") for q in load_questions(path)]
    assert len({q.qid for q in questions}) == len(questions)
    assert len({q.question for q in questions}) == len(questions)


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="corpus was extracted from Python 3.11")
@pytest.mark.parametrize("module", ["heapq", "shelve", "timeit"])
def test_build_script_reproduces_the_shipped_files(module: str) -> None:
    shipped = (shipped_corpus_dir() / f"{module}.txt").read_text(encoding="utf-8")
    assert build_corpus.module_text(module) == shipped


def test_user_corpus_reads_txt_and_md_recursively(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("alpha text", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("# beta", encoding="utf-8")
    (tmp_path / "ignored.csv").write_text("x,y", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["a", "sub/b"]
    assert corpus_digest(docs) != corpus_digest(docs[:1])


def test_empty_corpus_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="has no non-empty .txt/.md files"):
        load_corpus(tmp_path)
    with pytest.raises(InputError, match="is not a folder"):
        load_corpus(tmp_path / "missing")


def _write(path: Path, *rows: object) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows), encoding="utf-8"
    )
    return path


def test_questions_errors_name_the_line(tmp_path: Path) -> None:
    good = {"question": "q?", "answer": "a", "doc_ids": ["x"]}
    with pytest.raises(InputError, match="line 2: invalid JSON"):
        load_questions(_write(tmp_path / "q.jsonl", good, "{oops"))
    with pytest.raises(InputError, match="line 1: 'answer' must be a non-empty string"):
        load_questions(_write(tmp_path / "q.jsonl", {"question": "q?", "doc_ids": ["x"]}))
    with pytest.raises(InputError, match="line 1: 'doc_ids' must be a non-empty list"):
        load_questions(_write(tmp_path / "q.jsonl", {**good, "doc_ids": []}))
    with pytest.raises(InputError, match="does not exist"):
        load_questions(tmp_path / "nope.jsonl")


def test_questions_limit_and_string_doc_id(tmp_path: Path) -> None:
    rows = [{"question": f"q{i}?", "answer": "a", "doc_ids": "x"} for i in range(5)]
    questions = load_questions(_write(tmp_path / "q.jsonl", *rows), limit=2)
    assert [q.question for q in questions] == ["q0?", "q1?"]
    assert questions[0].doc_ids == ("x",)


def test_unknown_gold_id_names_the_question(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha", encoding="utf-8")
    path = _write(
        tmp_path / "q.jsonl", {"id": "k1", "question": "q?", "answer": "a", "doc_ids": ["zzz"]}
    )
    with pytest.raises(InputError, match="question 'k1' names gold doc id 'zzz'"):
        check_gold_ids(load_questions(path), load_corpus(tmp_path))
