"""Listing commands stay light: no heavy library is imported to list, show or describe; nor by a
sweep before its workers start."""

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


SWEEP_START = """
import sys
import runner
from runner.executors.ray import RayExecutor

class Started(Exception):
    pass

def start(self, points, tracking_uri):
    raise Started(sorted(m for m in ("mlflow", "sklearn", "pandas") if m in sys.modules))

RayExecutor.start = start
try:
    runner.sweep("ml-baseline", grid=["C=0.1,1"], executor="ray", tracking_uri=sys.argv[1])
except Started as started:
    print("AT_START=" + repr(started.args[0]))
"""


def test_a_sweep_starts_its_workers_before_importing_mlflow(tmp_path):
    """A Ray cluster starts while the driver imports MLflow, on the core the import leaves idle:
    nothing before the executor's start may import it (or the plugin's libraries)."""
    result = subprocess.run([sys.executable, "-c", SWEEP_START, f"sqlite:///{tmp_path}/m.db"],
                            capture_output=True, text=True, cwd=ROOT, check=True)
    assert "AT_START=[]" in result.stdout, result.stdout + result.stderr
