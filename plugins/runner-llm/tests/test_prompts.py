"""Prompt files: versions, user folder precedence, rendering and missing variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import InputError
from runner_llm import prompts


def test_bundled_prompt_has_three_versions_that_differ() -> None:
    versions = prompts.available()["qa"]
    assert versions[:3] == [1, 2, 3]
    texts = {prompts.load_template("qa", v).text for v in versions}
    assert len(texts) == len(versions)
    for v in versions:
        template = prompts.load_template("qa", v)
        assert template.variables == ["question"]
        # a real prompt: an instruction first, then the question
        instruction = template.text.split("{{question}}")[0]
        assert len(instruction.split()) >= 5, template.text


def test_render_fills_every_placeholder_and_ignores_extras() -> None:
    text = prompts.render("Q: {{ question }} / {{question}} ({{lang}})",
                          {"question": "Why?", "lang": "en", "unused": 1})
    assert text == "Q: Why? / Why? (en)"


def test_render_names_the_missing_variable() -> None:
    with pytest.raises(InputError, match="'lang'"):
        prompts.render("{{question}} in {{lang}}", {"question": "Why?"})


def test_user_dir_is_searched_first_and_adds_versions(tmp_path: Path) -> None:
    (tmp_path / "qa").mkdir()
    (tmp_path / "qa" / "v1.txt").write_text("mine: {{question}}\n")
    (tmp_path / "qa" / "v9.txt").write_text("nine: {{question}}")
    assert prompts.load_template("qa", 1, tmp_path).text == "mine: {{question}}"
    assert prompts.load_template("qa", 2, tmp_path).path.parent.parent == prompts.builtin_dir()
    assert 9 in prompts.available(tmp_path)["qa"]


def test_unknown_prompt_or_version_lists_what_exists(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="available prompts: qa"):
        prompts.load_template("nope", 1)
    versions = ", ".join(str(v) for v in prompts.available()["qa"])
    with pytest.raises(InputError, match=f"available versions: {versions}$"):
        prompts.load_template("qa", 42)
    with pytest.raises(InputError, match="prompts_dir not found"):
        prompts.load_template("qa", 1, tmp_path / "missing")
