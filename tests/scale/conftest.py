"""Real parts for the scale tests: the machine's PostgreSQL (127.0.0.1:5432, trust auth), an
``mlflow server`` started by ``runner server`` on a free port, and Ray clusters on this host.

Every fixture cleans up what it started, by process group or by ``ray stop``: no server,
database or Ray process outlives the tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG = "postgresql://postgres@127.0.0.1:5432"
#: Server-side jobs (GenAI evaluation) are not used by runner: 7 fewer processes on 2 cores.
SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
#: The clusters started here listen on this host only; no token to share between nodes.
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a ``runner`` subprocess: this repo's registry, no inherited URIs."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "RAY_ADDRESS")}
    return {**env, **RAY_ENV, "RUNNER_REGISTRY": str(ROOT / "registry.yaml"), **extra}


def _pg_execute(sql: str) -> None:
    import psycopg

    with contextlib.closing(psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=10)) as db:
        db.execute(sql)


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new database on the machine's PostgreSQL, dropped afterwards; yields its URI."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        _pg_execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - the one line CI shows
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed (.ci/run starts it): {exc}")
    try:
        yield f"{PG}/{name}"
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def postgres_uri() -> Iterator[str]:
    with postgres_database("runner_scale") as uri:
        yield uri


@dataclass
class Server:
    uri: str
    artifacts: Path
    process: subprocess.Popen[bytes]
    port: int
    backend: str

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_server(backend: str, artifacts: Path, log: Path, port: int | None = None) -> Server:
    """``runner server`` on a free port, ready (``/health`` answers) when this returns."""
    port = port or free_port()
    process = subprocess.Popen(
        [str(BIN / "runner"), "server", "--backend-store-uri", backend, "--artifacts-destination",
         str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**cli_env(), **SERVER_ENV},
    )
    server = Server(f"http://127.0.0.1:{port}", artifacts, process, port, backend)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"runner server exited {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{server.uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        time.sleep(0.5)
    server.stop()
    pytest.fail(f"runner server did not answer within 180 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def tracking_server(postgres_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``mlflow server`` (through ``runner server``) on PostgreSQL, artifacts proxied."""
    folder = tmp_path_factory.mktemp("server")
    server = start_server(postgres_uri, folder / "artifacts", folder / "server.log")
    try:
        yield server
    finally:
        server.stop()


def ray(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **RAY_ENV}
    return subprocess.run([str(BIN / "ray"), *args], capture_output=True, text=True, env=env,
                          check=check, timeout=300)


@pytest.fixture(scope="module")
def two_node_cluster() -> Iterator[str]:
    """A Ray cluster of two nodes on this host, one CPU each; yields its address."""
    pytest.importorskip("ray", reason="Ray is installed by `make setup` (runner-core[ray])")
    port = free_port()
    address = f"127.0.0.1:{port}"
    try:
        ray("start", "--head", "--num-cpus", "1", "--port", str(port), "--node-ip-address",
            "127.0.0.1", "--include-dashboard=false", "--disable-usage-stats")
        ray("start", "--address", address, "--num-cpus", "1", "--node-ip-address", "127.0.0.1",
            "--disable-usage-stats")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # both nodes registered
            status = ray("status", "--address", address, check=False).stdout
            if status.count(" node_") >= 2:
                break
            time.sleep(1)
        else:
            pytest.fail(f"the second Ray node did not join: {status[-1500:]}")
        yield address
    finally:
        ray("stop", "--force", check=False)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "runner"), *args], capture_output=True, text=True,
                          env=env or cli_env(), cwd=cwd, timeout=timeout)


@pytest.fixture
def helpers() -> object:
    """The helpers above, for test modules (which cannot import this conftest by name)."""
    import types

    return types.SimpleNamespace(run_cli=run_cli, cli_env=cli_env, start_server=start_server,
                                 free_port=free_port, postgres_database=postgres_database)
