"""Answer scorers: normalization, partial credit, word order, aliases."""

from __future__ import annotations

import pytest

from runner_llm.quality import contains_match, exact_match, normalize, rouge_l, score_all, token_f1


def test_normalize_drops_case_punctuation_and_articles() -> None:
    assert normalize("  The Pacific   Ocean! ") == "pacific ocean"


def test_exact_match_is_normalized_and_takes_the_best_alias() -> None:
    assert exact_match("Paris.", "paris") == 1.0
    assert exact_match("It is Paris", "Paris") == 0.0
    assert exact_match("Seven", ["7", "seven"]) == 1.0


def test_contains_match_needs_whole_words() -> None:
    assert contains_match("The capital of France is Paris.", "Paris") == 1.0
    assert contains_match("Parisian food", "Paris") == 0.0


def test_token_f1_gives_partial_credit() -> None:
    # prediction 5 tokens after normalization, reference 1, overlap 1: P=1/5, R=1 -> F1=1/3
    assert token_f1("The capital of France is Paris", "Paris") == pytest.approx(2 * 0.2 / 1.2)
    assert token_f1("London", "Paris") == 0.0


def test_rouge_l_is_order_sensitive_where_f1_is_not() -> None:
    assert token_f1("ocean pacific", "pacific ocean") == 1.0
    assert rouge_l("ocean pacific", "pacific ocean") == pytest.approx(0.5)
    assert rouge_l("pacific ocean", "Pacific Ocean") == 1.0


def test_score_all_has_every_metric_in_unit_range() -> None:
    scores = score_all("The answer is 4", ["4", "four"])
    assert set(scores) == {"exact_match", "contains_match", "token_f1", "rouge_l"}
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert scores["contains_match"] == 1.0 and scores["exact_match"] == 0.0


def test_every_quality_metric_is_declared_with_unit_bounds() -> None:
    from runner_llm.plugin import METRICS
    from runner_llm.quality import SCORERS

    bounds = {m.name: m.bounds for m in METRICS}
    assert {bounds[name] for name in SCORERS} == {(0.0, 1.0)}  # --repeat CIs stay within [0, 1]
