"""registry.yaml: the real catalogue resolves, and a malformed one names file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import InputError
from runner.plugins import load_plugins
from runner.registry import load_registry
from runner.config import resolve

ROOT = Path(__file__).resolve().parents[1]


def test_every_registry_entry_resolves_against_its_plugin():
    registry = load_registry(ROOT / "registry.yaml")
    plugins = load_plugins()
    names = set(registry.experiments)
    assert {"ml-baseline", "ml-improved", "nn-baseline", "llm-prompt", "rag-config", "rag-llm"} <= names
    for name in names:
        resolved = resolve(name, plugins=plugins, registry=registry)
        assert resolved.experiment_name.endswith("-experiments")


@pytest.mark.parametrize(
    ("text", "message"),
    [("experiments:\n  a:\n    type: toy\n   bad-indent: 1\n", "line"),
     ("experiments:\n  a:\n    typo: toy\n", "a.type: required; a.typo: unknown key"),
     ("experiments:\n  a:\n    type: toy\n    params: [1, 2]\n", "a.params: Input should be a valid dictionary"),
     ("experiment: {}\n", "experiment: unknown key")],
)
def test_malformed_registry_names_file_entry_and_field(tmp_path, text, message):
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_registry(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_entry_with_invalid_params_names_the_entry(tmp_path, make_plugins):
    path = tmp_path / "registry.yaml"
    path.write_text("experiments:\n  fast:\n    type: toy\n    params: {lr: high}\n")
    with pytest.raises(InputError) as info:
        resolve("fast", plugins=make_plugins(), registry=load_registry(path))
    assert str(info.value).startswith(f"invalid params for fast ({path}): lr: Input should be a valid number")


def test_entry_of_unknown_type(tmp_path, make_plugins):
    path = tmp_path / "registry.yaml"
    path.write_text("experiments:\n  fast:\n    type: xgboost\n")
    with pytest.raises(InputError, match="unknown experiment type 'xgboost'"):
        resolve("fast", plugins=make_plugins(), registry=load_registry(path))
