"""Declaration: cheap imports, the experiment type's contract, params validation."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from runner_llm.backends import BackendParams
from runner_llm.params import LlmPromptParams

HEAVY = ("torch", "transformers", "httpx", "mlflow", "pandas", "numpy", "tenacity")


def test_public_modules_import_without_heavy_libraries() -> None:
    code = (
        "import sys, runner_llm.plugin, runner_llm.backends, runner_llm.pricing, "
        "runner_llm.prompts, runner_llm.quality, runner_llm.calls, runner_llm.params\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_experiment_type_contract() -> None:
    from runner_llm.plugin import runner_register_experiment_types

    types = []
    runner_register_experiment_types(types.append)
    (exp,) = types
    assert exp.id == "llm-prompt" and exp.experiment_name == "llm-experiments"
    names = {m.name for m in exp.metrics}
    assert {"latency_sec", "tokens_used", "cost_usd", "tokens_per_sec", "token_f1"} <= names
    assert exp.implementation == "runner_llm.experiment:LlmPromptExperiment"


def test_params_forbid_unknown_keys_and_backends() -> None:
    with pytest.raises(ValidationError):
        LlmPromptParams(prompt_versoin=2)
    with pytest.raises(ValidationError, match="unknown backend"):
        BackendParams(backend="bard")
    assert issubclass(LlmPromptParams, BackendParams)
    assert BackendParams().backend == "local" and BackendParams().temperature == 0.0


def test_testing_and_offline_modules_import_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules)\n"
        "import runner_llm.testing, runner_llm.offline\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'runner_llm'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
