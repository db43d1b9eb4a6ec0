"""The statistics behind repeats and comparisons, from ``scipy.stats`` (none written here).

- :func:`summarize`: mean, standard deviation and a Student-t 95% confidence interval of one
  metric over repeats (seeds), the interval clipped to the range the metric can take.
- :func:`paired_test`: two runs scored on the same items (inputs, questions, folds, seeds): the
  mean difference ``B - A``, its 95% CI from a paired bootstrap over items (percentile method,
  reproducible for a fixed seed), a paired t-test p-value, and a plain verdict that takes the
  metric's direction into account.

scipy is imported inside the functions: ``runner --help`` and runs that never compare do not
pay for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: Confidence level of every interval runner reports, and 1 - the significance level.
CONFIDENCE = 0.95
#: Bootstrap resamples: the CI's own noise at 9,999 is well under its width for n >= 10.
RESAMPLES = 9_999
#: Seed of the bootstrap's generator: the same two runs always give the same interval.
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Summary:
    """One metric over ``n`` repeats."""

    n: int
    mean: float
    std: float
    #: The 95% CI of the mean, clipped to the metric's bounds when it has some.
    ci_low: float
    ci_high: float

    def as_metrics(self, name: str) -> dict[str, float]:
        """``{name}_mean``, ``_std``, ``_ci_low``, ``_ci_high``: what a repeat parent logs."""
        return {f"{name}_mean": self.mean, f"{name}_std": self.std,
                f"{name}_ci_low": self.ci_low, f"{name}_ci_high": self.ci_high}


def summarize(values: Sequence[float], bounds: tuple[float, float] | None = None) -> Summary:
    """Mean, sample standard deviation and the t-based 95% CI of the mean.

    One value has no spread to speak of: its std and CI are NaN. Equal values have std 0 and a
    CI that is the value itself.

    :param bounds: ``(low, high)``, the range a value can take (accuracy: ``(0, 1)``): the CI's
        ends are clipped to it, since a symmetric t interval around a mean near a bound can
        reach past it (3 seeds at 0.97, 0.99, 1.0 give an upper end above 1). The mean and std
        are left as they are.
    """
    import numpy as np
    from scipy import stats

    data = np.asarray(values, dtype=float)
    n = len(data)
    if n == 0:
        raise ValueError("summarize: no values")
    mean = float(data.mean())
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    std = float(data.std(ddof=1))
    if std == 0:
        low = high = mean
    else:
        low, high = stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=stats.sem(data))
    return Summary(n, mean, std, _clip(float(low), bounds), _clip(float(high), bounds))


def _clip(value: float, bounds: tuple[float, float] | None) -> float:
    """``value`` moved into ``bounds`` (``None``: unbounded)."""
    if bounds is None:
        return value
    low, high = bounds
    return min(max(value, float(low)), float(high))


@dataclass(frozen=True)
class PairedTest:
    """``B`` against ``A`` on the same ``n`` items, for one metric."""

    metric: str
    n: int
    mean_a: float
    mean_b: float
    #: Mean of ``B - A`` over items.
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    #: ``"B better"``, ``"A better"`` or ``"no detectable difference at n=24"``.
    verdict: str

    @property
    def significant(self) -> bool:
        """The difference is detectable: the CI excludes 0 and p < 1 - CONFIDENCE."""
        return not self.verdict.startswith("no detectable")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "significant": self.significant}


def paired_test(
    metric: str, a: Sequence[float], b: Sequence[float], *, maximize: bool = True,
    seed: int = DEFAULT_SEED,
) -> PairedTest:
    """Test ``b`` against ``a``, item ``i`` of one paired with item ``i`` of the other.

    The CI is a percentile bootstrap of the mean difference (items resampled with replacement,
    ``RESAMPLES`` times); the p-value is the paired t-test's. ``B`` is called better only when
    both agree (CI excludes 0 and p < 0.05), in the direction ``maximize`` says is better.
    Differences that are all equal leave the t-test undefined: all zero is no difference
    (p = 1); any other constant gets the exact sign test's p-value (every one of ``n`` items
    moved the same way: 2 x 0.5^n), so two seeds that happen to differ equally prove nothing.
    """
    import numpy as np
    from scipy import stats

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired_test {metric}: {len(x)} and {len(y)} values are not pairs")
    n = len(x)
    if n < 2:
        raise ValueError(f"paired_test {metric}: need at least 2 paired items, got {n}")
    differences = y - x
    difference = float(differences.mean())
    if np.allclose(differences, differences[0], rtol=0, atol=1e-12):  # float noise is equal
        low = high = difference
        p_value = 1.0 if difference == 0 else float(stats.binomtest(n, n, 0.5).pvalue)
    else:
        interval = stats.bootstrap(
            (differences,), np.mean, confidence_level=CONFIDENCE, n_resamples=RESAMPLES,
            method="percentile", vectorized=True, rng=np.random.default_rng(seed),
        ).confidence_interval
        low, high = float(interval.low), float(interval.high)
        p_value = float(stats.ttest_rel(y, x).pvalue)
    detectable = p_value < 1 - CONFIDENCE and (low > 0 or high < 0)
    if not detectable:
        verdict = f"no detectable difference at n={n}"
    else:
        verdict = "B better" if (difference > 0) == maximize else "A better"
    return PairedTest(metric, n, float(x.mean()), float(y.mean()), difference, low, high,
                      p_value, verdict)
