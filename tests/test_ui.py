"""`runner ui` serves the same store `runner run` writes to (a real MLflow server on loopback)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from runner.runs import run_experiment

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ui_shows_runs_of_the_store(make_plugins, tracking_uri):
    outcome = run_experiment("toy", tracking_uri=tracking_uri, plugins=make_plugins())
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "runner", "ui", "--port", str(port), "--tracking-uri", tracking_uri],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/get?run_id={outcome.run_id}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    run = json.load(response)["run"]
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:] if server.stderr else ""
                assert time.monotonic() < deadline, "the UI did not answer within 90 s"
                time.sleep(1)
        assert run["info"]["status"] == "FINISHED"
        assert {"key": "lr", "value": "0.1"} in run["data"]["params"]
    finally:  # the UI starts worker processes: stop the whole group
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
