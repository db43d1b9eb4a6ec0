"""The input set: template variables per item (JSONL or ``--set input=...``), checked upfront.

An item is a JSON object of template variables plus two optional keys: ``expected`` (a string or
a list of accepted answers) and ``checks`` (a list of :class:`runner_llm.checks.Check`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from runner import InputError

from runner_llm.checks import Check, parse_checks, require_references
from runner_llm.params import LlmPromptParams
from runner_llm.prompts import PromptTemplate, missing_variables
from runner_llm.quality import Expected

DEFAULT_INPUT = "qa_facts.jsonl"


@dataclass(frozen=True)
class Item:
    """One input: the template's variables and, optionally, the accepted answer(s) and checks.

    After :func:`load_items`, ``checks`` are the run's default checks followed by the item's own.
    """

    variables: dict[str, Any]
    expected: Expected | None = None
    source_line: int | None = field(default=None, compare=False)
    checks: tuple[Check, ...] = ()


def default_input_path() -> Path:
    """The bundled 24-question factual QA set."""
    return Path(str(resources.files("runner_llm") / "data" / DEFAULT_INPUT))


def _item(record: Any, where: str) -> Item:
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object of template variables")
    variables = dict(record)
    expected = variables.pop("expected", None)
    if expected is not None and not isinstance(expected, str):
        if not (isinstance(expected, list) and all(isinstance(e, str) for e in expected)):
            raise InputError(f"{where}: 'expected' must be a string or a list of strings")
    checks = parse_checks(variables.pop("checks"), where) if "checks" in variables else ()
    return Item(variables, expected, checks=checks)


def read_jsonl(path: Path) -> list[Item]:
    """Parse a JSONL file into items; blank lines are skipped.

    :raises runner.InputError: missing file, bad JSON (with the line number), empty set.
    """
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    items: list[Item] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        items.append(replace(_item(record, f"{path}:{number}"), source_line=number))
    if not items:
        raise InputError(f"input file is empty: {path}")
    return items


def single_item(params: LlmPromptParams, template: PromptTemplate) -> Item:
    """The item of a ``--set input=...`` run."""
    text = params.input or ""
    if text.lstrip().startswith("{"):
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            record = None
        if isinstance(record, dict):
            item = _item(record, "input")
            return replace(item, expected=params.expected or item.expected)
    names = template.variables
    if len(names) != 1:
        raise InputError(
            f"prompt {template.name!r} v{template.version} has variables {names}: pass "
            "input as a JSON object, e.g. --set input='{\"" + (names[0] if names else "x")
            + "\": \"...\"}'"
        )
    return Item({names[0]: text}, params.expected)


def load_items(params: LlmPromptParams, template: PromptTemplate) -> tuple[list[Item], str]:
    """Items to run and where they came from, each with the run's default checks
    (``params.checks``) before its own; every item must fill every placeholder.

    :raises runner.InputError: naming the first item and the variable that is missing, or a
        check that has nothing to compare with (no ``value`` and no ``expected``).
    """
    if params.input is not None:
        items, source = [single_item(params, template)], "input param"
    else:
        path = Path(params.input_path).expanduser() if params.input_path else default_input_path()
        items, source = read_jsonl(path), str(path)
    if params.max_items is not None:
        items = items[: params.max_items]
    for index, item in enumerate(items):
        where = f"{source} " + (f"line {item.source_line}" if item.source_line else f"item {index}")
        missing = missing_variables(template.text, item.variables)
        if missing:
            raise InputError(
                f"{where}: missing prompt variable {missing[0]!r} required by "
                f"{template.name} v{template.version}"
            )
        require_references((*params.checks, *item.checks), item.expected, where)
    return [replace(item, checks=(*params.checks, *item.checks)) for item in items], source
