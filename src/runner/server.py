"""``runner server``: a team's tracking server — MLflow's own ``mlflow server``, set up once.

A thin wrapper, nothing of our own serves a request: it checks the backend store, creates the
database (PostgreSQL, when the role may) and MLflow's schema once, then replaces itself with::

    python -m mlflow server --backend-store-uri URI --artifacts-destination DEST \\
        --serve-artifacts --host HOST --port PORT [--workers N] \\
        --gunicorn-opts "--timeout 300 --graceful-timeout 30" [extra mlflow server options]

With ``--serve-artifacts`` clients upload and download artifacts through the server
(``mlflow-artifacts:/``), so runs logged from any machine or Ray worker need only the server's
URL, no storage credentials. ``mlflow server`` run by hand with the same options works the same.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from runner.errors import InputError

#: The schemes ``runner server`` takes as a backend store (MLflow's SQL stores).
SQL_SCHEMES = ("postgresql", "postgresql+psycopg", "postgresql+psycopg2", "mysql", "mysql+pymysql", "sqlite", "mssql")


def artifacts_destination(value: str) -> str:
    """A local folder made absolute (and created); any other URI (``s3://``...) as given."""
    parsed = urlparse(value)
    if parsed.scheme and parsed.scheme != "file" and len(parsed.scheme) > 1:
        return value
    path = Path(parsed.path if parsed.scheme == "file" else value).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--artifacts-destination {value}: {exc.strerror or exc}") from None
    return str(path)


def ensure_database(backend_store_uri: str) -> bool:
    """Create a missing PostgreSQL database (connecting to the server's ``postgres`` database
    with the same role). Returns whether it was created; an unreachable server or a role that
    may not create it is one ``InputError``."""
    parsed = urlparse(backend_store_uri)
    if not parsed.scheme.startswith("postgresql"):
        return False
    try:
        import psycopg
    except ImportError:
        raise InputError("a postgresql:// store needs the psycopg driver: "
                         "pip install 'psycopg[binary]'") from None
    name = parsed.path.lstrip("/") or "postgres"
    dsn = urlunparse(parsed._replace(scheme="postgresql"))
    try:
        psycopg.connect(dsn, connect_timeout=10).close()
        return False
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc) or f'"{name}"' not in str(exc):
            raise InputError(f"backend store {_safe(backend_store_uri)}: "
                             f"{str(exc).strip().splitlines()[0]}") from None
    maintenance = urlunparse(parsed._replace(scheme="postgresql", path="/postgres"))
    try:
        connection = psycopg.connect(maintenance, connect_timeout=10, autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
    except psycopg.Error as exc:
        raise InputError(f"database {name!r} does not exist and could not be created "
                         f"({str(exc).strip().splitlines()[0]}): create it with "
                         f"`createdb {name}`") from None
    return True


def ensure_schema(backend_store_uri: str) -> None:
    """Create MLflow's tables in an empty database, once, before any server worker starts; an
    out-of-date schema is one line saying how to upgrade it."""
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    try:
        store = SqlAlchemyStore(backend_store_uri, "mlflow-artifacts:/")
    except MlflowException as exc:
        message = str(exc)
        if "out-of-date database schema" in message:
            raise InputError(f"backend store {_safe(backend_store_uri)} has an older MLflow schema: "
                             f"back it up, then `mlflow db upgrade {_safe(backend_store_uri)}`"
                             ) from None
        raise InputError(f"backend store {_safe(backend_store_uri)}: {message.splitlines()[0]}"
                         ) from None
    store.engine.dispose()


def _safe(uri: str) -> str:
    """The URI without its password, for messages."""
    parsed = urlparse(uri)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return urlunparse(parsed._replace(netloc=netloc))
    return uri


#: Options of ``mlflow server`` that pick its HTTP server; given by the user, they win.
APP_SERVER_OPTIONS = ("--gunicorn-opts", "--uvicorn-opts", "--waitress-opts")
#: gunicorn sync workers answer a tracking call in ~10 ms here, MLflow's default uvicorn (the
#: Flask API behind a WSGI bridge) in ~50 ms: writes are most of what a run's logging costs.
#: ``--app-server uvicorn`` keeps MLflow's default, which also serves the FastAPI-only parts
#: (AI gateway, server-side jobs, OTLP ingestion, assistant).
GUNICORN_OPTS = "--timeout 300 --graceful-timeout 30"


def mlflow_server_args(
    backend_store_uri: str, artifacts: str, host: str, port: int, workers: int | None,
    extra: Sequence[str] = (), app_server: str = "gunicorn",
) -> list[str]:
    """The ``mlflow server`` command line this wrapper runs."""
    args = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_store_uri,
            "--artifacts-destination", artifacts, "--serve-artifacts",
            "--host", host, "--port", str(port)]
    if workers:
        args += ["--workers", str(workers)]
    chosen = any(arg.split("=")[0] in APP_SERVER_OPTIONS for arg in extra)
    if app_server == "gunicorn" and not chosen and sys.platform != "win32":
        args += ["--gunicorn-opts", GUNICORN_OPTS]
    return [*args, *extra]


def prepare(backend_store_uri: str, artifacts: str) -> str:
    """Check the store, create database and schema; returns the artifact destination to use."""
    scheme = urlparse(backend_store_uri).scheme
    if scheme not in SQL_SCHEMES:
        raise InputError(f"--backend-store-uri must be a database URI (postgresql://USER@HOST/DB, "
                         f"mysql://..., sqlite:///PATH), got {backend_store_uri!r}")
    if scheme == "sqlite":
        path = Path(backend_store_uri.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
    ensure_database(backend_store_uri)
    ensure_schema(backend_store_uri)
    return artifacts_destination(artifacts)


def serve(
    backend_store_uri: str, artifacts: str, host: str, port: int, workers: int | None,
    extra: Sequence[str] = (), app_server: str = "gunicorn",
) -> None:
    """Prepare the store, then become ``mlflow server`` (this process is replaced)."""
    import socket

    with socket.socket() as probe:
        if probe.connect_ex((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port)) == 0:
            raise InputError(f"port {port} on {host} is already in use: pick another with --port")
    destination = prepare(backend_store_uri, artifacts)
    args = mlflow_server_args(backend_store_uri, destination, host, port, workers, extra, app_server)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)
