"""Input sets: the bundled QA set, JSONL parsing, single input, variable checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import InputError
from runner_llm import prompts
from runner_llm.data import default_input_path, load_items, read_jsonl
from runner_llm.params import LlmPromptParams


def test_bundled_set_has_twenty_answered_questions() -> None:
    items = read_jsonl(default_input_path())
    assert len(items) >= 20
    assert all(item.expected and "question" in item.variables for item in items)


def test_missing_variable_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"question": "a?"}) + "\n\n" + json.dumps({"q": "b?"}) + "\n")
    params = LlmPromptParams(input_path=str(path))
    with pytest.raises(InputError, match=r"line 3: missing prompt variable 'question'"):
        load_items(params, prompts.load_template("qa", 1))


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"question": "a?"}\n{oops\n')
    with pytest.raises(InputError, match=r"in.jsonl:2: invalid JSON"):
        read_jsonl(path)


def test_single_input_fills_the_only_variable_or_takes_json() -> None:
    template = prompts.load_template("qa", 2)
    items, _ = load_items(LlmPromptParams(input="Why?", expected="Because"), template)
    assert items[0].variables == {"question": "Why?"} and items[0].expected == "Because"
    items, _ = load_items(LlmPromptParams(input='{"question": "How?"}'), template)
    assert items[0].variables == {"question": "How?"} and items[0].expected is None


def test_max_items_cuts_the_set() -> None:
    items, _ = load_items(LlmPromptParams(max_items=3), prompts.load_template("qa", 1))
    assert len(items) == 3
