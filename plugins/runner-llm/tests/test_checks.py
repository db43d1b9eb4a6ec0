"""Checks on outputs: every type passes and fails on crafted answers, negated too; bad checks are
one error line naming where they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner import InputError
from runner_llm import prompts
from runner_llm.checks import CHECK_TYPES, Answer, Check, failures, parse_checks, require_price
from runner_llm.data import load_items
from runner_llm.params import LlmPromptParams
from runner_llm.quality import rouge_l

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

#: type -> (check fields, an answer that passes, an answer that fails); expected is "Paris".
CASES: dict[str, tuple[dict[str, Any], Answer, Answer]] = {
    "equals": ({}, Answer("Paris", 1, 0), Answer("paris", 1, 0)),
    "contains": ({"value": "Paris"}, Answer("It is Paris.", 1, 0), Answer("It is paris.", 1, 0)),
    "icontains": ({}, Answer("it is PARIS", 1, 0), Answer("It is Lyon", 1, 0)),
    "regex": ({"value": r"^\d{4}$"}, Answer("1969", 1, 0), Answer("in 1969", 1, 0)),
    "is-json": ({}, Answer('{"a": 1}', 1, 0), Answer("{a: 1}", 1, 0)),
    "json-schema": ({"value": SCHEMA}, Answer('{"city": "Paris"}', 1, 0),
                    Answer('{"city": 7}', 1, 0)),
    "levenshtein": ({"threshold": 2}, Answer("Pariss", 1, 0), Answer("Lyon", 1, 0)),
    "rouge-l": ({"threshold": 0.5}, Answer("Paris France", 1, 0), Answer("Lyon", 1, 0)),
    "latency": ({"threshold": 2.0}, Answer("x", 1.5, 0), Answer("x", 2.5, 0)),
    "cost": ({"threshold": 0.01}, Answer("x", 1, 0.005), Answer("x", 1, 0.02)),
}


def test_every_type_has_a_case() -> None:
    assert set(CASES) == set(CHECK_TYPES)


@pytest.mark.parametrize("kind", CHECK_TYPES)
def test_each_type_passes_and_fails_and_negates(kind: str) -> None:
    fields, good, bad = CASES[kind]
    check = Check(type=kind, **fields)
    assert check.failure(good, "Paris") is None
    reason = check.failure(bad, "Paris")
    assert reason is not None and reason.startswith(kind)
    negated = Check(type=f"not-{kind}", **fields)
    assert negated.negated and negated.kind == kind
    assert negated.failure(bad, "Paris") is None
    assert (negated.failure(good, "Paris") or "").startswith(f"not-{kind}")


def test_failures_say_what_was_observed() -> None:
    answer = Answer('{"city": 7}', 3.25, 0.02)
    checks = parse_checks([
        {"type": "icontains", "value": "Lyon"},
        {"type": "json-schema", "value": SCHEMA},
        {"type": "latency", "threshold": 2},
        {"type": "cost", "threshold": 0.01},
        {"type": "levenshtein", "value": '{"city": 7}', "threshold": 0},
        {"type": "not-regex", "value": r"\d"},
    ], "set")
    assert failures(checks, answer, None) == [
        "icontains 'Lyon': not found",
        "json-schema <schema>: $.city: 7 is not of type 'string'",
        "latency <= 2 s: took 3.25 s",
        "cost <= 0.01 USD: cost $0.02",
        "not-regex '\\\\d': matched '7'",
    ]


def test_a_list_of_accepted_answers_passes_on_any() -> None:
    accepted = ["7", "seven"]
    assert Check(type="icontains").failure(Answer("Seven days", 1, 0), accepted) is None
    assert Check(type="levenshtein", threshold=0).failure(Answer("7", 1, 0), accepted) is None
    assert Check(type="not-icontains").failure(Answer("Seven", 1, 0), accepted) is not None


def test_rouge_l_check_scores_like_the_rouge_l_metric() -> None:
    # rouge-score with the quality scorers' normalization: the check and the column agree
    answer, reference = "The Pacific Ocean is the largest ocean", "pacific ocean"
    check = Check(type="rouge-l", threshold=rouge_l(answer, reference))
    assert check.failure(Answer(answer, 1, 0), reference) is None
    stricter = Check(type="rouge-l", threshold=rouge_l(answer, reference) + 0.01)
    assert stricter.failure(Answer(answer, 1, 0), reference) is not None


@pytest.mark.parametrize(("spec", "message"), [
    ({"type": "contain"}, "unknown check type 'contain'; use one of equals, contains"),
    ({"type": "regex"}, "regex needs a value"),
    ({"type": "regex", "value": "("}, "regex: invalid pattern"),
    ({"type": "json-schema", "value": {"type": "nope"}}, "json-schema: invalid schema"),
    ({"type": "json-schema", "value": "object"}, "json-schema: value must be a JSON object"),
    ({"type": "latency"}, r"latency needs a threshold \(max seconds\)"),
    ({"type": "is-json", "value": "x"}, "is-json takes no value"),
    ({"type": "equals", "threshold": 1}, "equals takes no threshold"),
    ({"type": "rouge-l", "threshold": 2}, r"rouge-l: threshold must be in \[0, 1\]"),
    ({"type": "levenshtein", "value": 3}, "levenshtein: value must be a string"),
    ({"type": "not-latency", "threshold": -1}, r"latency: threshold must be in \[0, inf\]"),
    ({"type": "cost", "threshold": True}, "threshold: Input should be a valid number"),
    ({"type": "equals", "expected": "x"}, "expected: unknown key"),
])
def test_a_bad_check_is_one_line_naming_where(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=f"^set.jsonl:3: check 2: {message}") as caught:
        parse_checks([{"type": "is-json"}, spec], "set.jsonl:3")
    assert "\n" not in str(caught.value)


def _items(tmp_path: Path, *records: dict[str, Any], **params: Any) -> list[Any]:
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    items, _ = load_items(LlmPromptParams(input_path=str(path), **params),
                          prompts.load_template("qa", 1))
    return items


def test_input_set_items_carry_checks_after_the_run_defaults(tmp_path: Path) -> None:
    items = _items(
        tmp_path,
        {"question": "a?", "expected": "A", "checks": [{"type": "not-contains", "value": "B"}]},
        {"question": "b?", "expected": "B"},
        checks=[{"type": "icontains"}],
    )
    assert [[c.type for c in item.checks] for item in items] == \
        [["icontains", "not-contains"], ["icontains"]]
    assert "checks" not in items[0].variables  # not a template variable


def test_bad_checks_in_an_input_set_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"set.jsonl:2: check 1: unknown check type 'eq'"):
        _items(tmp_path, {"question": "a?"}, {"question": "b?", "checks": [{"type": "eq"}]})
    with pytest.raises(InputError, match=r"set.jsonl:1: 'checks' must be a list"):
        _items(tmp_path, {"question": "a?", "checks": {"type": "is-json"}})
    # a check that compares with the expected answer needs one
    with pytest.raises(InputError, match=r"line 2: check 'icontains' needs a value or the item's"):
        _items(tmp_path, {"question": "a?", "expected": "A"}, {"question": "b?"},
               checks=[{"type": "icontains"}])


def test_a_cost_check_needs_a_price(tmp_path: Path) -> None:
    cost = parse_checks([{"type": "cost", "threshold": 0.01}], "set")
    with pytest.raises(InputError, match="check 'cost' needs a price for model 'mine'"):
        require_price(cost, LlmPromptParams(backend="openai", llm_model="mine"))
    require_price(cost, LlmPromptParams(backend="openai", llm_model="gpt-4o-mini"))
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  mine: {input_per_1m: 1, output_per_1m: 2}\n")
    require_price(cost, LlmPromptParams(backend="openai", llm_model="mine",
                                        pricing_file=str(prices)))


def test_default_checks_are_a_validated_param_logged_compactly() -> None:
    params = LlmPromptParams(checks=[{"type": "not-icontains", "value": "sorry"}])
    assert params.model_dump()["checks"] == [{"type": "not-icontains", "value": "sorry"}]
    with pytest.raises(ValueError, match="checks.0\n.*unknown check type 'sory'"):
        LlmPromptParams(checks=[{"type": "sory"}])
