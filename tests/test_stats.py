"""runner.stats against known cases: what a user reads as a verdict must be right."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from runner.stats import paired_test, summarize


def test_summary_of_repeats_is_scipys_t_interval() -> None:
    values = [0.81, 0.84, 0.79, 0.86, 0.83]
    summary = summarize(values)
    low, high = scipy_stats.t.interval(0.95, 4, loc=np.mean(values), scale=scipy_stats.sem(values))
    assert summary.n == 5
    assert summary.mean == pytest.approx(0.826)
    assert summary.std == pytest.approx(np.std(values, ddof=1))
    assert (summary.ci_low, summary.ci_high) == pytest.approx((low, high))
    assert summary.ci_low < summary.mean < summary.ci_high
    assert set(summary.as_metrics("accuracy")) == {
        "accuracy_mean", "accuracy_std", "accuracy_ci_low", "accuracy_ci_high"}


def test_summary_of_equal_values_and_of_one_value() -> None:
    equal = summarize([0.5, 0.5, 0.5])
    assert (equal.std, equal.ci_low, equal.ci_high) == (0.0, 0.5, 0.5)
    one = summarize([0.7])
    assert one.mean == 0.7 and math.isnan(one.std) and math.isnan(one.ci_low)


def test_summary_ci_is_clipped_to_the_bounds_and_the_mean_and_std_are_not() -> None:
    values = [0.97, 0.99, 1.0]  # near the top of accuracy's range: the t interval reaches past 1
    free = summarize(values)
    assert free.ci_high > 1.0
    bounded = summarize(values, bounds=(0.0, 1.0))
    assert bounded.ci_high == 1.0 and bounded.ci_low == pytest.approx(free.ci_low)
    assert (bounded.n, bounded.mean, bounded.std) == (free.n, free.mean, free.std)
    assert set(bounded.as_metrics("accuracy").values()) == {
        free.mean, free.std, free.ci_low, 1.0}
    low = summarize([0.0, 0.01, 0.03], bounds=(0.0, math.inf))  # a loss near 0: clipped at 0
    assert low.ci_low == 0.0 and low.ci_high == pytest.approx(summarize([0.0, 0.01, 0.03]).ci_high)
    inside = [0.8, 0.82, 0.85]  # an interval well inside the bounds is left as it is
    assert summarize(inside, bounds=(0.0, 1.0)) == summarize(inside)
    one = summarize([1.0], bounds=(0.0, 1.0))
    assert one.mean == 1.0 and math.isnan(one.ci_low) and math.isnan(one.ci_high)
    assert summarize([1.0, 1.0], bounds=(0.0, 1.0)).ci_high == 1.0


def test_identical_runs_have_no_detectable_difference() -> None:
    scores = list(np.random.default_rng(1).random(24))
    result = paired_test("answer_relevance", scores, scores)
    assert result.verdict == "no detectable difference at n=24"
    assert (result.difference, result.ci_low, result.ci_high, result.p_value) == (0, 0, 0, 1)
    assert not result.significant


def test_b_better_on_every_item_is_b_better_and_a_for_lower_is_better() -> None:
    rng = np.random.default_rng(2)
    a = rng.random(24)
    b = a + 0.05 + rng.random(24) * 0.1
    result = paired_test("accuracy", a, b)
    assert result.verdict == "B better" and result.significant
    assert 0.05 < result.ci_low < result.difference < result.ci_high < 0.15
    assert result.p_value < 1e-6
    assert paired_test("latency_sec", a, b, maximize=False).verdict == "A better"
    assert paired_test("accuracy", b, a).verdict == "A better"


def test_bootstrap_ci_of_a_constant_difference_is_that_constant() -> None:
    a = [0.1, 0.4, 0.2, 0.9, 0.5, 0.3]
    result = paired_test("hit", a, [x + 0.25 for x in a])
    assert result.ci_low == pytest.approx(0.25) and result.ci_high == pytest.approx(0.25)
    assert result.p_value == pytest.approx(2 * 0.5**6)  # the sign test: all 6 moved up
    assert result.verdict == "B better"


def test_a_few_equal_differences_prove_nothing() -> None:
    # two seeds that happen to differ by the same amount: the sign test's p is 0.5
    result = paired_test("accuracy", [0.95, 0.97], [0.92, 0.94])
    assert result.p_value == pytest.approx(0.5)
    assert result.verdict == "no detectable difference at n=2"


def test_noise_is_no_difference_and_results_are_reproducible() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.random(24), rng.random(24)
    first, second = paired_test("score", a, b), paired_test("score", a, b)
    assert first == second
    assert first.ci_low < 0 < first.ci_high
    assert first.verdict == "no detectable difference at n=24"
    assert paired_test("score", a, b, seed=7).ci_low != first.ci_low


def test_unpaired_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="not pairs"):
        paired_test("score", [1.0, 2.0], [1.0])
