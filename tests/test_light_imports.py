"""Listing commands stay light: no heavy library is imported to list, show or describe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ["mlflow", "torch", "sklearn", "transformers", "pandas", "sentence_transformers", "psutil"]
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = f"""
import json, sys
from runner.cli import cli
codes = []
for args in (["plugins", "--json"], ["list", "--json"], ["show", "ml-baseline", "--json"],
             ["show", "nn-baseline"], ["show", "llm-prompt"], ["show", "rag-config"]):
    try:
        cli(args, standalone_mode=False)
        codes.append(0)
    except SystemExit as exit:
        codes.append(exit.code)
print("CODES=" + json.dumps(codes))
print("HEAVY=" + json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""


def test_plugins_list_show_import_no_heavy_library():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if line[:6] in {"CODES=", "HEAVY="})
    assert json.loads(lines["CODES"]) == [0] * 6  # every command really succeeded
    assert json.loads(lines["HEAVY"]) == []
    assert '"sklearn"' in result.stdout  # the commands really ran against installed plugins
