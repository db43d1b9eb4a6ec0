"""Prompt templates as versioned files: ``<dir>/<name>/v<N>.txt`` with ``{{variable}}`` slots.

Templates ship in this package folder; a user folder (``prompts_dir``) is searched first, so a
user can add prompts or new versions without touching the package. The ``{{variable}}`` syntax
is the MLflow Prompt Registry's, so a file registers there unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from runner import InputError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_VERSION_FILE = re.compile(r"^v(\d+)\.txt$")


@dataclass(frozen=True)
class PromptTemplate:
    """One version of a named prompt, read from ``path``."""

    name: str
    version: int
    text: str
    path: Path

    @property
    def variables(self) -> list[str]:
        """The placeholder names, in order of first appearance."""
        return template_variables(self.text)


def template_variables(template: str) -> list[str]:
    """Names of the ``{{variable}}`` placeholders in ``template`` (no duplicates)."""
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def builtin_dir() -> Path:
    """The folder of prompts shipped with runner_llm."""
    return Path(str(resources.files("runner_llm") / "prompts"))


def _search_dirs(user_dir: str | Path | None) -> list[Path]:
    dirs = [Path(user_dir).expanduser()] if user_dir else []
    return [*dirs, builtin_dir()]


def available(user_dir: str | Path | None = None) -> dict[str, list[int]]:
    """Prompt names and their versions across the user folder and the package."""
    found: dict[str, set[int]] = {}
    for folder in _search_dirs(user_dir):
        if not folder.is_dir():
            continue
        for sub in folder.iterdir():
            for file in sub.glob("v*.txt") if sub.is_dir() else ():
                match = _VERSION_FILE.match(file.name)
                if match:
                    found.setdefault(sub.name, set()).add(int(match.group(1)))
    return {name: sorted(versions) for name, versions in sorted(found.items())}


def load_template(name: str, version: int, user_dir: str | Path | None = None) -> PromptTemplate:
    """Read ``<name>/v<version>.txt``, user folder first.

    :raises runner.InputError: the folder, prompt or version does not exist.
    """
    if user_dir and not Path(user_dir).expanduser().is_dir():
        raise InputError(f"prompts_dir not found: {user_dir}")
    for folder in _search_dirs(user_dir):
        path = folder / name / f"v{version}.txt"
        if path.is_file():
            text = path.read_text(encoding="utf-8").rstrip("\n")
            return PromptTemplate(name, version, text, path)
    known = available(user_dir)
    if name not in known:
        names = ", ".join(known) or "none"
        raise InputError(f"unknown prompt {name!r}; available prompts: {names}")
    versions = ", ".join(str(v) for v in known[name])
    raise InputError(f"prompt {name!r} has no version {version}; available versions: {versions}")


def missing_variables(template: str, variables: Mapping[str, Any]) -> list[str]:
    """Placeholders of ``template`` that ``variables`` does not provide."""
    return [v for v in template_variables(template) if v not in variables]


def render(template: str | PromptTemplate, variables: Mapping[str, Any]) -> str:
    """Fill every ``{{variable}}``; extra variables are ignored.

    :raises runner.InputError: naming the first missing variable.
    """
    text = template.text if isinstance(template, PromptTemplate) else template
    missing = missing_variables(text, variables)
    if missing:
        needs = ", ".join(missing)
        raise InputError(f"prompt variable {missing[0]!r} is missing (missing: {needs})")
    return PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), text)
