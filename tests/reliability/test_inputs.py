"""Every input kind changed after a run: skip-if-done runs it again, ``reproduce`` reports it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runner.config import resolve
from runner.registry import Registry
from runner.reproduction import reproduce
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
    plugins = make_plugins(installed=True)
    resolved = resolve("sklearn", {"dataset.path": str(data), "max_iter": 200},
                       plugins=plugins, registry=Registry())
    first = execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True)
    assert first.status == "FINISHED"
    assert execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True).status == "SKIPPED"

    _csv(data, 12_000, flip_tail=2_000)  # MLflow's dataset digest only sees the first 10,000
    again = execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True)
    assert again.status == "FINISHED" and again.run_id != first.run_id
    assert again.metrics["accuracy"] < first.metrics["accuracy"]  # the new labels were used
    drift = reproduce(first.run_id, plugins, tracking_uri=tracking_uri).drift
    assert [d.what for d in drift if d.what.startswith("input")] == ["input " + data.stem]


def test_file_digests_are_cached_by_path_size_and_mtime(tmp_path, monkeypatch):
    from runner import inputs

    monkeypatch.setenv("RUNNER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(inputs, "_MEMO", {})
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 3_000_000)
    first = inputs.file_digest(data)
    reads: list[int] = []
    original = inputs.Path.open
    def counting_open(self, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if mode == "rb":  # reading the file's bytes (not the digest cache)
            reads.append(1)
        return original(self, mode, *args, **kwargs)

    monkeypatch.setattr(inputs.Path, "open", counting_open)
    monkeypatch.setattr(inputs, "_MEMO", {})  # a new process: only the on-disk cache is left
    assert inputs.file_digest(data) == first and reads == []
    data.write_bytes(b"y" * 3_000_000)  # same size, new mtime: read again
    assert inputs.file_digest(data) != first and reads == [1]


def _changed_input_reruns(plugins, tracking_uri, type_id, overrides, change, input_name):
    """Run, skip the same, change an input, then: drift names it and the run is not skipped."""
    resolved = resolve(type_id, overrides, plugins=plugins, registry=Registry())
    first = execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True)
    assert first.status == "FINISHED", first.error
    assert execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True).status == "SKIPPED"
    change()
    assert execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True).status == "FINISHED"
    drift = reproduce(first.run_id, plugins, tracking_uri=tracking_uri).drift
    assert [d.what for d in drift if d.what.startswith("input ")] == [f"input {input_name}"]


def _llm(fake_llm, **extra):
    return {"backend": "openai", "base_url": fake_llm.base_url, "llm_model": "m",
            "api_key_env": None, "max_items": 2, **extra}


def test_an_edited_prompt_template_is_a_new_run(tmp_path, tracking_uri, make_plugins, fake_llm):
    template = tmp_path / "prompts" / "qa" / "v1.txt"
    template.parent.mkdir(parents=True)
    template.write_text("Answer briefly.\n{{question}}")
    _changed_input_reruns(make_plugins(installed=True), tracking_uri, "llm-prompt",
                          _llm(fake_llm, prompts_dir=str(tmp_path / "prompts")),
                          lambda: template.write_text("Answer in one word.\n{{question}}"), "prompt")


def test_an_edited_input_set_is_a_new_run(tmp_path, tracking_uri, make_plugins, fake_llm):
    items = tmp_path / "items.jsonl"
    items.write_text('{"question": "Capital of France?", "expected": "Paris"}\n'
                     '{"question": "Capital of Japan?", "expected": "Tokyo"}\n')
    _changed_input_reruns(make_plugins(installed=True), tracking_uri, "llm-prompt",
                          _llm(fake_llm, input_path=str(items)),
                          lambda: items.write_text(items.read_text().replace("Tokyo", "Kyoto")),
                          "items.jsonl")


def test_an_edited_corpus_document_is_a_new_run(tmp_path, tracking_uri, make_plugins):
    import shutil

    from runner_rag.data import shipped_corpus_dir

    corpus = tmp_path / "corpus"
    shutil.copytree(shipped_corpus_dir(), corpus)
    doc = sorted(corpus.glob("*.txt"))[-1]
    _changed_input_reruns(make_plugins(installed=True), tracking_uri, "rag",
                          {"corpus_dir": str(corpus), "retriever": "bm25", "max_questions": 3},
                          lambda: doc.write_text(doc.read_text() + "\nOne more sentence."), "corpus")


def test_a_declared_model_file_is_in_the_key(tmp_path, tracking_uri, make_plugins):
    from runner import hookimpl

    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x00" * 1024)

    class DeclaresWeights:
        @hookimpl
        def runner_prepare(self, ctx):  # type: ignore[no-untyped-def]
            ctx.log_input("weights", path=weights)

    plugins = make_plugins(("weights", DeclaresWeights()))  # the toy type comes with it
    _changed_input_reruns(plugins, tracking_uri, "toy", {},
                          lambda: weights.write_bytes(b"\x01" * 1024), "weights")
