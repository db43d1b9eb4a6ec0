"""Every hook in hookspecs.py is documented for plugin authors."""

from __future__ import annotations

import inspect
from pathlib import Path

from runner import hookspecs

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugin-authors.md"


def hook_names() -> list[str]:
    """The hooks a plugin manager knows from runner's specs (not a hand-kept list)."""
    from runner.plugins import new_manager

    return sorted(name for name in vars(new_manager().hook) if name.startswith("runner_"))


def test_hook_names_come_from_the_spec_module():
    defined = sorted(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
                     if name.startswith("runner_"))
    assert hook_names() == defined  # every function in hookspecs.py is a registered spec


def test_every_hook_has_a_documented_section():
    text = DOC.read_text()
    names = hook_names()
    for name in names:
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"### `{name}({params})`" in text, f"{name} is not documented in {DOC.name}"


def test_every_hook_spec_has_a_docstring_naming_its_arguments():
    for name in hook_names():
        func = getattr(hookspecs, name)
        for param in inspect.signature(func).parameters:
            assert f":param {param}:" in (func.__doc__ or ""), f"{name} does not document {param}"
