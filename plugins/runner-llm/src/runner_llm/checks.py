"""Checks on prompt outputs, the assertions promptfoo users know: each passes or fails one answer.

A check is ``{"type": ..., "value": ..., "threshold": ...}``; the type is one of
:data:`CHECK_TYPES`, optionally prefixed with ``not-`` to negate it. ``value`` is what the
answer is compared with (text, a regex, a JSON schema); for ``equals``, ``contains``,
``icontains``, ``levenshtein`` and ``rouge-l`` it defaults to the item's ``expected`` answer(s),
so run-wide default checks (``--set checks=[...]``) can test every item against its own answer.
``threshold`` is the number a measurement is held to (max edit distance, min ROUGE-L, max
seconds, max USD). Everything is validated when a check is read, so a bad check is one error
line before any run exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from math import inf
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from runner import InputError
from runner.validation import describe_validation_error

from runner_llm.backends.base import BackendParams
from runner_llm.pricing import price_for
from runner_llm.quality import Expected, normalize

#: The prefix that negates a check type (promptfoo's): ``not-contains``.
NEGATION = "not-"


@dataclass(frozen=True)
class Answer:
    """What checks look at: the answer's text, its call's latency and API price (None: unknown)."""

    text: str
    latency_sec: float
    cost_usd: float | None


#: A check type's test: (answer, references, check) -> (passed, what was observed).
Test = Callable[[Answer, list[str], "Check"], tuple[bool, str]]


def _equals(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    return answer.text in refs, f"output is {_quote(answer.text)}"


def _contains(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    found = [r for r in refs if r in answer.text]
    return bool(found), f"found {_quote(found[0])}" if found else "not found"


def _icontains(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    text = answer.text.casefold()
    found = [r for r in refs if r.casefold() in text]
    return bool(found), f"found {_quote(found[0])}" if found else "not found"


def _regex(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    match = re.search(str(check.value), answer.text)
    return match is not None, f"matched {_quote(match.group(0))}" if match else "no match"


def _parse_json(text: str) -> tuple[Any, str | None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"


def _is_json(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    _, error = _parse_json(answer.text)
    return error is None, error or "valid JSON"


def _json_schema(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    data, error = _parse_json(answer.text)
    if error is not None:
        return False, error
    from jsonschema.exceptions import best_match

    validator = _schema_validator(json.dumps(check.value, sort_keys=True))
    problem = best_match(validator.iter_errors(data))
    if problem is None:
        return True, "matches the schema"
    return False, f"{problem.json_path}: {problem.message}"


def _levenshtein(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    from rapidfuzz.distance import Levenshtein

    distance = min(Levenshtein.distance(answer.text, r) for r in refs)
    return distance <= _threshold(check), f"edit distance {distance}"


def _rouge_l(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    scorer = _rouge_scorer()
    score = max(scorer.score(r, answer.text)["rougeL"].fmeasure for r in refs)
    return score >= _threshold(check), f"ROUGE-L {score:.3f}"


def _latency(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    return answer.latency_sec <= _threshold(check), f"took {answer.latency_sec:.3g} s"


def _cost(answer: Answer, refs: list[str], check: Check) -> tuple[bool, str]:
    cost = answer.cost_usd
    if cost is None:  # runs refuse this up front (require_price)
        return False, "price unknown"
    return cost <= _threshold(check), f"cost ${cost:.6g}"


@dataclass(frozen=True)
class _Spec:
    """What a check type reads and how it tests an answer."""

    test: Test
    #: What ``value`` holds (None: the type takes no value); ``required``: it must be given.
    value: type | None = None
    required: bool = False
    #: ``"max"``/``"min"``: ``threshold`` bounds the measurement (None: no threshold).
    bound: str | None = None
    #: The measurement's unit, as failures print it.
    unit: str = ""
    #: What the threshold is, as errors print it.
    measure: str = ""
    #: The threshold when none is given (promptfoo's); None: a threshold must be given.
    default: float | None = None


#: Check type -> what it reads and its test.
SPECS: dict[str, _Spec] = {
    "equals": _Spec(_equals, str),
    "contains": _Spec(_contains, str),
    "icontains": _Spec(_icontains, str),
    "regex": _Spec(_regex, str, required=True),
    "is-json": _Spec(_is_json),
    "json-schema": _Spec(_json_schema, dict, required=True),
    "levenshtein": _Spec(_levenshtein, str, bound="max", measure="edit distance", default=5),
    "rouge-l": _Spec(_rouge_l, str, bound="min", measure="ROUGE-L F-measure", default=0.75),
    "latency": _Spec(_latency, bound="max", unit=" s", measure="seconds"),
    "cost": _Spec(_cost, bound="max", unit=" USD", measure="USD of the call"),
}
CHECK_TYPES = tuple(SPECS)

_VALUE_NAMES: dict[type, str] = {str: "string", dict: "JSON object (the schema)"}
#: Upper bounds of thresholds (ROUGE-L is an F-measure).
_MAX_THRESHOLD = {"rouge-l": 1.0}

#: Types that compare with a reference text: ``value``, else the item's ``expected``.
REFERENCE_TYPES = frozenset(
    name for name, spec in SPECS.items() if spec.value is str and not spec.required
)


def _quote(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return repr(line if len(line) <= limit else line[: limit - 3] + "...")


def _threshold(check: Check) -> float:
    value = check.threshold if check.threshold is not None else check.spec.default
    assert value is not None  # a type without a default requires a threshold (validated)
    return value


@cache
def _schema_validator(schema_json: str) -> Any:
    """A jsonschema validator (the schema as sorted JSON text, so it is built once).

    :raises jsonschema.exceptions.SchemaError: the schema itself is invalid.
    """
    from jsonschema import validators

    schema = json.loads(schema_json)
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class _Tokenizer:
    """ROUGE tokens: the quality scorers' normalization, so ``rouge-l`` agrees with ``rouge_l``."""

    def tokenize(self, text: str) -> list[str]:
        return normalize(text).split()


@cache
def _rouge_scorer() -> Any:
    """rouge-score's ROUGE-L scorer (imported on first use: it loads nltk, ~1.7 s)."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=_Tokenizer())


class Check(BaseModel):
    """One check: ``type`` (``not-`` negates it), ``value`` and ``threshold`` as the type needs."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    type: str = Field(
        "icontains",
        description=f"One of {', '.join(CHECK_TYPES)}; the prefix {NEGATION!r} negates it. "
        "Default icontains: the answer contains the item's expected answer, ignoring case.",
    )
    value: Any = Field(
        None,
        description="What the answer is compared with: a text (equals, contains, icontains, "
        "levenshtein, rouge-l; default: the item's expected answers), a regex, or a JSON "
        "schema (json-schema).",
    )
    threshold: float | None = Field(
        None,
        description="levenshtein: max edit distance (default 5); rouge-l: min F-measure "
        "(default 0.75); latency: max seconds; cost: max USD of the call.",
    )

    @property
    def negated(self) -> bool:
        """Whether the type has the ``not-`` prefix."""
        return self.type.startswith(NEGATION)

    @property
    def kind(self) -> str:
        """The type without ``not-``."""
        return self.type.removeprefix(NEGATION)

    @property
    def spec(self) -> _Spec:
        """What this check's type reads and how it tests."""
        return SPECS[self.kind]

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Only the fields given, so MLflow params and ``config.json`` stay short."""
        return {key: value for key, value in handler(self).items() if value is not None}

    @model_validator(mode="after")
    def _valid(self) -> Check:
        """Type known, value and threshold as the type needs, regex and schema well-formed."""
        problem = self._problem()
        if problem:
            raise PydanticCustomError("check", problem)
        return self

    def _problem(self) -> str | None:
        """What is wrong with this check, or None."""
        kind = self.kind
        if kind not in SPECS:
            return (f"unknown check type {self.type!r}; use one of {', '.join(CHECK_TYPES)} "
                    f"(the prefix {NEGATION!r} negates one)")
        spec = self.spec
        if self.value is None and spec.required:
            return f"{kind} needs a value"
        if self.value is not None and spec.value is None:
            return f"{kind} takes no value"
        if spec.value is not None and self.value is not None \
                and not isinstance(self.value, spec.value):
            return f"{kind}: value must be a {_VALUE_NAMES[spec.value]}"
        if spec.bound is None and self.threshold is not None:
            return f"{kind} takes no threshold"
        if spec.bound is not None and spec.default is None and self.threshold is None:
            return f"{kind} needs a threshold ({spec.bound} {spec.measure})"
        top = _MAX_THRESHOLD.get(kind, inf)
        if self.threshold is not None and not 0 <= self.threshold <= top:
            return f"{kind}: threshold must be in [0, {top:g}]"
        if kind == "regex":
            try:
                re.compile(self.value)
            except re.error as exc:
                return f"regex: invalid pattern ({exc})"
        if kind == "json-schema":
            from jsonschema.exceptions import SchemaError

            try:
                _schema_validator(json.dumps(self.value, sort_keys=True))
            except SchemaError as exc:
                return f"json-schema: invalid schema ({exc.message})"
        return None

    @property
    def label(self) -> str:
        """How a failure names the check, e.g. ``not-icontains 'paris'`` or ``latency <= 2 s``."""
        parts = [self.type]
        if isinstance(self.value, str):
            parts.append(_quote(self.value))
        elif self.value is not None:
            parts.append("<schema>")
        if self.spec.bound is not None:
            sign = "<=" if self.spec.bound == "max" else ">="
            parts.append(f"{sign} {_threshold(self):g}{self.spec.unit}")
        return " ".join(parts)

    def references(self, expected: Expected | None) -> list[str]:
        """The texts the answer is compared with: ``value``, else the item's ``expected``."""
        if self.kind not in REFERENCE_TYPES:
            return []
        if isinstance(self.value, str):
            return [self.value]
        if expected is None:
            return []
        return [expected] if isinstance(expected, str) else list(expected)

    def failure(self, answer: Answer, expected: Expected | None) -> str | None:
        """Why ``answer`` fails this check (one line), or ``None`` when it passes."""
        passed, observed = self.spec.test(answer, self.references(expected), self)
        if passed != self.negated:
            return None
        return f"{self.label}: {observed}"


def parse_checks(raw: Any, where: str) -> tuple[Check, ...]:
    """Checks from an input-set item's ``checks`` list.

    :raises runner.InputError: one line naming ``where`` and the first bad check.
    """
    if not isinstance(raw, list):
        raise InputError(f"{where}: 'checks' must be a list of {{type, value, threshold}} objects")
    checks = []
    for number, entry in enumerate(raw, start=1):
        try:
            checks.append(Check.model_validate(entry))
        except ValidationError as exc:
            raise InputError(f"{where}: check {number}: {describe(exc)}") from None
    return tuple(checks)


def describe(error: ValidationError) -> str:
    """A check's validation error as one line (its own message when the check as a whole is bad)."""
    if all(not e["loc"] for e in error.errors()):
        return "; ".join(e["msg"] for e in error.errors())
    return describe_validation_error(error)


def require_references(checks: Sequence[Check], expected: Expected | None, where: str) -> None:
    """Every check that compares with a text has one: its ``value`` or the item's ``expected``.

    :raises runner.InputError: naming ``where`` and the check.
    """
    for check in checks:
        if check.kind in REFERENCE_TYPES and not check.references(expected):
            raise InputError(
                f"{where}: check {check.type!r} needs a value or the item's 'expected'"
            )


def failures(checks: Sequence[Check], answer: Answer, expected: Expected | None) -> list[str]:
    """Why ``answer`` fails each failing check, in order; empty when all pass."""
    return [reason for check in checks if (reason := check.failure(answer, expected))]


def require_price(checks: Sequence[Check], params: BackendParams) -> None:
    """A ``cost`` check needs the model's price (the pricing table or ``pricing_file``).

    :raises runner.InputError: the model has no price.
    """
    if any(check.kind == "cost" for check in checks) and price_for(params) is None:
        raise InputError(
            f"check 'cost' needs a price for model {params.llm_model!r}: add it to a pricing_file"
        )
