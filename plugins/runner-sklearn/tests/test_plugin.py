"""The installed distribution is found through its entry point and declares cheaply."""

from __future__ import annotations

import json
import subprocess
import sys

from runner.plugins import load_plugins


def test_entry_point_registers_the_sklearn_type():
    plugins = load_plugins()
    exp_type, plugin = plugins.experiment_type("sklearn")
    assert plugin.name == "sklearn"
    assert exp_type.experiment_name == "ml-experiments"
    assert exp_type.primary.name == "accuracy"


def test_declaring_imports_no_heavy_library():
    code = (
        "import json, sys, runner_sklearn.plugin; "
        "print(json.dumps([m for m in ('sklearn', 'pandas', 'numpy', 'mlflow', 'matplotlib') "
        "if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
