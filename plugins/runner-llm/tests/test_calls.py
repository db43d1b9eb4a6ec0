"""Shared call accounting: the latency summary every LLM-calling type logs."""

from __future__ import annotations

import numpy as np
import pytest

from runner_llm.calls import latency_summary, percentile


def test_latency_summary_names_and_numpy_percentiles() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 100.0, 0.5]
    summary = latency_summary("generation_latency", values)
    assert summary == pytest.approx({
        "generation_latency_sec": np.mean(values),
        "generation_latency_p50_sec": np.percentile(values, 50),
        "generation_latency_p95_sec": np.percentile(values, 95),
    })
    assert latency_summary("x", []) == {}


def test_percentile_interpolates_and_handles_one_value() -> None:
    assert percentile([7.0], 95) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert np.isnan(percentile([], 50))
