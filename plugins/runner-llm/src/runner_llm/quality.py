"""Answer quality against a reference: exact match, token F1, ROUGE-L, contains-match.

All scores are in [0, 1] and compare *normalized* text (SQuAD style: lower-case, punctuation and
the articles a/an/the removed, whitespace collapsed). ``expected`` may be one string or a list
of accepted answers; the best-scoring alias counts.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence

Expected = str | Sequence[str]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation})


def normalize(text: str) -> str:
    """Lower-case, drop punctuation and articles, collapse whitespace."""
    text = text.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _aliases(expected: Expected) -> list[str]:
    return [expected] if isinstance(expected, str) else [str(e) for e in expected]


def _best(score: Callable[[str, str], float], prediction: str, expected: Expected) -> float:
    return max((score(prediction, ref) for ref in _aliases(expected)), default=0.0)


def _exact(prediction: str, reference: str) -> float:
    return float(normalize(prediction) == normalize(reference))


def _contains(prediction: str, reference: str) -> float:
    ref = normalize(reference)
    return float(bool(ref) and f" {ref} " in f" {normalize(prediction)} ")


def _f1(prediction: str, reference: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _lcs(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two token lists."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _rouge_l(prediction: str, reference: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    lcs = _lcs(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, expected: Expected) -> float:
    """1.0 when the normalized prediction equals a normalized accepted answer."""
    return _best(_exact, prediction, expected)


def contains_match(prediction: str, expected: Expected) -> float:
    """1.0 when an accepted answer appears as whole words in the prediction.

    Useful for chatty small models ("The capital of France is Paris.").
    """
    return _best(_contains, prediction, expected)


def token_f1(prediction: str, expected: Expected) -> float:
    """Harmonic mean of token precision and recall (SQuAD F1)."""
    return _best(_f1, prediction, expected)


def rouge_l(prediction: str, expected: Expected) -> float:
    """ROUGE-L F-measure: longest common token subsequence, precision/recall balanced (beta=1)."""
    return _best(_rouge_l, prediction, expected)


#: Metric name -> scorer; every run logs the mean of each over items that have ``expected``.
SCORERS: dict[str, Callable[[str, Expected], float]] = {
    "exact_match": exact_match,
    "contains_match": contains_match,
    "token_f1": token_f1,
    "rouge_l": rouge_l,
}


def score_all(prediction: str, expected: Expected) -> dict[str, float]:
    """Every scorer's value for one answer."""
    return {name: fn(prediction, expected) for name, fn in SCORERS.items()}
