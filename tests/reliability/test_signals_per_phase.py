"""Each signal at each phase of a real run, in its own process: the run's final status, and
everything logged before the signal is in the store."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parents[1]

#: Runs the toy experiment with a plugin that signals its own process in one phase, the way the
#: ``runner`` command does it (SIGTERM raises like Ctrl-C).
SCRIPT = f"""
import os, signal, sys
sys.path.insert(0, {str(TESTS)!r})
from conftest import ToyPlugin
from runner import hookimpl
from runner.cli import _terminate
from runner.plugins import load_plugins
from runner.runs import run_experiment

signal.signal(signal.SIGTERM, _terminate)
signum, phase, uri = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class Signaller:
    def _maybe(self, name):
        if name == phase:
            os.kill(os.getpid(), signum)

    @hookimpl
    def runner_prepare(self, ctx):
        self._maybe("prepare")

    @hookimpl(trylast=True)
    def runner_execute(self, ctx):
        self._maybe("execute")

    @hookimpl(trylast=True)
    def runner_evaluate(self, ctx):
        self._maybe("evaluate")

    @hookimpl(trylast=True)
    def runner_log(self, ctx):
        self._maybe("log")

os.environ["RUNNER_LOAD_PLUGINS"] = ""
plugins = load_plugins(extra=[("toy", ToyPlugin()), ("signaller", Signaller())])
try:
    run_experiment("toy", tracking_uri=uri, plugins=plugins)
except KeyboardInterrupt as stop:
    print(f"interrupted run={{getattr(stop, 'run_id', None)}}")
    sys.exit(130)
"""

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
PHASES = ["prepare", "execute", "evaluate", "log"]


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_in_phase(tmp_path, signum, phase):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(int(signum)), phase, uri],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("toy-experiments")
    runs = client.search_runs([experiment.experiment_id]) if experiment else []
    if phase == "prepare":  # the run did not exist yet: nothing was recorded, nothing is left
        assert runs == []
        if signum != signal.SIGKILL:
            assert (done.returncode, done.stdout.strip()) == (130, "interrupted run=None")
        return
    (run,) = runs
    run_id = run.info.run_id
    if signum == signal.SIGKILL:
        assert done.returncode == -signal.SIGKILL
        assert run.info.status == "RUNNING"  # nothing could end it: `runner runs --stale` will
        from runner.liveness import is_stale

        assert is_stale(run.data.tags)
    else:
        assert (done.returncode, done.stdout.strip()) == (130, f"interrupted run={run_id}")
        assert run.info.status == "KILLED"
        assert "error.txt" in {a.path for a in client.list_artifacts(run_id)}
    # the curve the execute phase logged (toy: 5 points) is all there — except under SIGKILL in
    # that very phase: points younger than the 2-second flush die with the process
    points = len(client.get_metric_history(run_id, "loss"))
    assert points == 5 or (signum == signal.SIGKILL and phase == "execute")
    assert run.data.params["derived"] == "0.2"  # recorded in prepare


def test_temporary_folders_of_killed_processes_are_removed(tmp_path, monkeypatch):
    import tempfile

    from runner.liveness import new_workdir

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    killed = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                            capture_output=True, text=True, check=True)
    left = tmp_path / f"runner-{killed.stdout.strip()}-abc"  # a process that is gone
    left.mkdir()
    alive = tmp_path / "runner-1-abc"  # pid 1 is alive
    alive.mkdir()
    fresh = new_workdir()
    assert not left.exists() and alive.exists() and fresh.exists()
