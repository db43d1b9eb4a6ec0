"""API cost: token prices from the table, unknown -> None (compute is the core ledger's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import InputError
from runner_llm.backends import BackendParams, Completion
from runner_llm.pricing import UsageTotals, cost_usd, load_prices, price_for


def _completion(p: int, c: int, sec: float) -> Completion:
    return Completion("x", p, c, sec, "m")


def test_api_cost_uses_the_token_table() -> None:
    params = BackendParams(backend="openai", llm_model="gpt-4o-mini")
    price = price_for(params)
    assert price is not None
    expected = (1000 * price.input_per_1m + 500 * price.output_per_1m) / 1e6
    assert cost_usd(params, _completion(1000, 500, 3.0)) == pytest.approx(expected)


def test_unknown_api_model_has_no_cost_not_zero() -> None:
    params = BackendParams(backend="openai", llm_model="my-private-model")
    assert cost_usd(params, _completion(10, 10, 1.0)) is None


def test_pricing_file_extends_the_table(tmp_path: Path) -> None:
    yaml_file = tmp_path / "prices.yaml"
    yaml_file.write_text("models:\n  my-private-model: {input_per_1m: 2, output_per_1m: 4}\n")
    params = BackendParams(backend="openai", llm_model="my-private-model",
                           pricing_file=str(yaml_file))
    usages = [_completion(1_000_000, 0, 1.0), _completion(0, 500_000, 1.0)]
    assert cost_usd(params, usages) == pytest.approx(2 + 2)
    json_file = tmp_path / "prices.json"
    json_file.write_text(json.dumps({"models": {"gpt-4o-mini": {"input_per_1m": 9,
                                                                "output_per_1m": 9}}}))
    assert load_prices(str(json_file))["gpt-4o-mini"].input_per_1m == 9
    assert "gpt-4o" in load_prices(str(json_file))


def test_generation_time_is_not_priced_here() -> None:
    # a local model's cost is compute time, which the core's cost ledger prices for every run
    usages = [_completion(5, 5, 1.5), _completion(5, 5, 0.5)]
    assert cost_usd(BackendParams(), UsageTotals.of(usages)) is None
    assert cost_usd(BackendParams(usd_per_hour=3.6), usages) is None  # deprecated: no effect


def test_a_priced_model_is_priced_per_token_even_when_local() -> None:
    params = BackendParams(llm_model="gpt-4o-mini")
    price = price_for(params)
    assert price is not None
    assert cost_usd(params, _completion(1_000_000, 0, 99.0)) == pytest.approx(price.input_per_1m)


def test_bad_pricing_file_is_one_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_prices(str(tmp_path / "nope.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  m: {input_per_1m: cheap}\n")
    with pytest.raises(InputError, match="numeric"):
        load_prices(str(bad))
