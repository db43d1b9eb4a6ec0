"""Every input kind changed after a run: skip-if-done runs it again, ``reproduce`` reports it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runner.config import resolve
from runner.registry import Registry
from runner.reproduce import reproduce
from runner.runs import execute

pytestmark = pytest.mark.slow


def _csv(path, rows: int, flip_tail: int = 0) -> None:
    """A separable two-class table; ``flip_tail`` relabels the last rows (past MLflow's 10,000)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 2))
    label = (x[:, 0] > 0).astype(int)
    if flip_tail:
        label[-flip_tail:] = 1 - label[-flip_tail:]
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": label}).to_csv(path, index=False)


def test_a_change_past_row_10000_is_not_skipped_and_is_drift(tmp_path, tracking_uri, make_plugins):
    data = tmp_path / "big.csv"
    _csv(data, 12_000)
    plugins = make_plugins()
    resolved = resolve("sklearn", {"dataset.path": str(data), "max_iter": 200},
                       plugins=plugins, registry=Registry())
    first = execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True)
    assert first.status == "FINISHED"
    assert execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True).status == "SKIPPED"

    _csv(data, 12_000, flip_tail=2_000)  # MLflow's dataset digest only sees the first 10,000
    drift = reproduce(first.run_id, plugins, tracking_uri=tracking_uri).drift
    assert [d.what for d in drift if d.what.startswith("input")] == ["input " + data.stem]
    again = execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True)
    assert again.status == "FINISHED" and again.run_id != first.run_id
    assert again.metrics["accuracy"] < first.metrics["accuracy"]  # the new labels were used


def test_file_digests_are_cached_by_path_size_and_mtime(tmp_path, monkeypatch):
    from runner import inputs

    monkeypatch.setenv("RUNNER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(inputs, "_MEMO", {})
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 3_000_000)
    first = inputs.file_digest(data)
    reads: list[int] = []
    original = inputs.Path.open
    monkeypatch.setattr(inputs.Path, "open", lambda self, *a, **k: reads.append(1) or original(self, *a, **k))
    monkeypatch.setattr(inputs, "_MEMO", {})  # a new process: only the on-disk cache is left
    assert inputs.file_digest(data) == first and reads == []
    data.write_bytes(b"y" * 3_000_000)  # same size, new mtime: read again
    assert inputs.file_digest(data) != first and reads == [1]
