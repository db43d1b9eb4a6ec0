"""Declaration: cheap imports, backends discovered through entry points, params validation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from runner_llm.backends import (
    ENTRY_POINT_GROUP,
    BackendParams,
    backend_entry_points,
    backend_names,
    get_backend,
    is_local,
)
from runner_llm.params import LlmPromptParams, PromptParams

HEAVY = ("torch", "transformers", "httpx", "mlflow", "pandas", "numpy", "tenacity")


def test_public_modules_import_without_heavy_libraries() -> None:
    code = (
        "import sys, runner_llm.plugin, runner_llm.backends, runner_llm.pricing, "
        "runner_llm.prompts, runner_llm.quality, runner_llm.calls, runner_llm.params\n"
        "from runner_llm.backends import BackendParams\n"
        "BackendParams(backend='openai'); BackendParams.model_json_schema()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # validating a backend name imports no backend module


def test_first_party_backends_register_through_the_entry_point_group() -> None:
    points = backend_entry_points()
    assert points["local"].value == "runner_llm.backends.local:LocalBackend"
    assert points["openai"].value == "runner_llm.backends.openai:OpenAIBackend"
    assert {points[n].group for n in ("local", "openai")} == {ENTRY_POINT_GROUP}
    assert {points[n].dist.name for n in ("local", "openai")} == {"runner-llm"}
    schema = BackendParams.model_json_schema()["properties"]["backend"]
    assert schema["enum"] == backend_names()  # the choices, computed when the schema is asked


def test_get_backend_loads_the_entry_point_and_reads_local_from_the_class() -> None:
    backend = get_backend(BackendParams(backend="openai", llm_model="m"))
    assert type(backend).__name__ == "OpenAIBackend" and backend.name == "openai"
    assert get_backend(BackendParams(backend="openai", llm_model="m")) is backend
    assert not is_local(backend)
    assert not is_local(object())  # a backend without the attribute is priced per token


def test_unknown_backend_lists_the_installed_ones() -> None:
    with pytest.raises(ValidationError, match="unknown backend 'bard'; choose one of ") as err:
        BackendParams(backend="bard")
    assert ", ".join(backend_names()) in str(err.value)


def test_params_forbid_unknown_keys_and_share_the_prompt_base() -> None:
    with pytest.raises(ValidationError, match="prompt_versoin"):
        LlmPromptParams(prompt_versoin=2)
    assert issubclass(LlmPromptParams, PromptParams) and issubclass(PromptParams, BackendParams)
    defaults = LlmPromptParams()
    assert (defaults.backend, defaults.temperature, defaults.prompt_name) == ("local", 0.0, "qa")


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_items", True), ("max_tokens", False), ("seed", True), ("temperature", True),
     ("prompt_version", 1.0), ("max_tokens", "64")],
)
def test_booleans_are_not_numbers(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        LlmPromptParams.model_validate({field: value})


def test_floats_take_ints_and_json_round_trips() -> None:
    params = LlmPromptParams.model_validate({"temperature": 1, "timeout_sec": 5, "max_items": 2})
    assert params.temperature == 1.0 and isinstance(params.temperature, float)
    again = LlmPromptParams.model_validate(json.loads(params.model_dump_json()))
    assert again == params


def test_offline_module_imports_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules)\n"
        "import runner_llm.offline\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'runner_llm'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_params_a_backend_does_not_read_are_inactive() -> None:
    http = {"base_url", "api_key_env", "timeout_sec", "max_retries"}
    deprecated = {"usd_per_hour"}  # the core's cost ledger prices compute
    assert BackendParams().inactive_params() == http | {"seed"} | deprecated  # local, greedy
    assert BackendParams(temperature=0.7).inactive_params() == http | deprecated  # seed read
    assert BackendParams(backend="openai").inactive_params() == deprecated


def test_llm_prompt_inactive_params_follow_the_input_mode() -> None:
    input_set = LlmPromptParams(backend="openai").inactive_params()
    assert input_set == {"usd_per_hour", "input", "expected", "checks"}  # no default checks
    one = LlmPromptParams(backend="openai", input="Why?", expected="Because",
                          checks=[{"type": "icontains"}]).inactive_params()
    assert one == {"usd_per_hour", "input_path", "max_items"}
    # never a field the model lacks: the core drops these names from the MLflow params
    assert LlmPromptParams().inactive_params() <= set(LlmPromptParams.model_fields)
