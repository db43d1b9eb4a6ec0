"""Listing commands stay light: no heavy library is imported to list, show or describe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ["mlflow", "torch", "sklearn", "transformers", "pandas", "sentence_transformers"]
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = f"""
import json, sys
from runner.cli import cli
for args in (["plugins", "--json"], ["list", "--json"], ["show", "ml-baseline", "--json"],
             ["show", "nn-baseline"], ["show", "llm-prompt"], ["show", "rag-config"], ["--help"]):
    try:
        cli(args, standalone_mode=False)
    except SystemExit:
        pass
print("HEAVY=" + json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""


def test_plugins_list_show_import_no_heavy_library():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    line = next(l for l in result.stdout.splitlines() if l.startswith("HEAVY="))
    assert json.loads(line.removeprefix("HEAVY=")) == []
    assert '"sklearn"' in result.stdout  # the commands really ran against installed plugins
