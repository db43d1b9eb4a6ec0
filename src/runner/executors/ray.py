"""``--executor ray``: sweep points on long-lived Ray actors.

Each actor (one CPU) imports the core, the store and the plugin's implementation once, opens the
tracking store once, then runs point after point: a sweep of short runs is no longer bound by
per-process start-up. ``ray.init()`` decides where it runs: ``--ray-address`` or
``$RAY_ADDRESS`` names a running cluster; without either a local cluster is started for the
sweep and stopped after it.

The driver keeps planning, validation, skip-if-done and the parent run; it hands each idle actor
one point at a time (so a slow point never holds others back) and yields outcomes as they come.

Faults:

- A worker process that dies mid-point (SIGKILL, OOM, a lost node) is restarted by Ray
  (``max_restarts``) and the point is run again (``max_task_retries``). The restarted actor
  first ends the dead attempt's run FAILED, saying why, and returns the point's FINISHED run
  instead of running it again if the dead attempt got that far: one FINISHED child per point.
- Ctrl-C on the driver: running points are interrupted (their runs end KILLED, with what they
  logged), queued ones dropped, and a cluster started for the sweep stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from runner.errors import InputError, RunnerError
from runner.executors.base import (
    Executor,
    PointTask,
    import_worker_modules,
    run_point,
    worker_modules,
)
from runner.provenance import CODE_VERSION_ENV, code_version
from runner.store.names import RAY_ACTOR_TAG, RAY_NODE_TAG
from runner.store.uris import is_local_only

if TYPE_CHECKING:
    from runner.plugins import Plugins
    from runner.runs import RunOutcome
    from runner.sweeps import SweepPoint

INSTALL_HINT = "--executor ray needs Ray, which is not installed: pip install 'runner-core[ray]'"
#: How often a worker process that died mid-point is restarted, and its point run again.
MAX_RESTARTS = 3
#: How long the driver waits for a first worker to be ready before giving up.
READY_TIMEOUT_SEC = float(os.environ.get("RUNNER_RAY_READY_TIMEOUT", "300"))
#: How long interrupted points get to end their runs KILLED before the workers are killed.
INTERRUPT_GRACE_SEC = 15.0
#: How often a worker looks whether the driver asked it to stop.
STOP_POLL_SEC = 0.25
#: Ray's loggers whose start-up notes (token set-up, "not the main thread") are noise here.
QUIET_LOGGERS = ("ray._private.authentication.authentication_token_setup", "ray._private.worker",
                 "ray.worker")
#: Variables a worker needs to reach an authenticated tracking server, forwarded when set.
FORWARDED_ENV = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN",
                 "MLFLOW_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_SERVER_CERT_PATH",
                 "MLFLOW_TRACKING_CLIENT_CERT_PATH", "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
                 "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_HTTP_REQUEST_TIMEOUT",
                 "RUNNER_REGISTRY", "RUNNER_LOAD_PLUGINS", "RUNNER_NO_CACHE")


def worker_env() -> dict[str, str]:
    """What each actor sets in its environment: the forwarded variables and the driver's code
    version (workers on other hosts record it). Set by the actor itself, not as a ``runtime_env``:
    a ``runtime_env`` would keep Ray from using the worker processes it starts with the cluster
    (~1 s of start-up each, on top of the runtime-env agent's round trip)."""
    env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
    code = code_version()
    if code is not None:
        env[CODE_VERSION_ENV] = code
    return env


def import_ray() -> Any:
    """The ``ray`` module, or one line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return ray


def remote_nodes(nodes: list[dict[str, Any]], here: str) -> list[str]:
    """Addresses of alive Ray nodes on another host than ``here`` (this node's IP)."""
    local = {here, "127.0.0.1", "localhost"}
    return sorted({str(n.get("NodeManagerAddress")) for n in nodes
                   if n.get("Alive") and n.get("NodeManagerAddress") not in local})


def refuse_local_store(tracking_uri: str, nodes: list[dict[str, Any]], here: str) -> None:
    """A tracking URI only this host can use, with workers on other hosts: one ``InputError``."""
    reason = is_local_only(tracking_uri)
    others = remote_nodes(nodes, here) if reason else []
    if others:
        raise InputError(
            f"tracking URI {tracking_uri} is {reason}: the Ray cluster has nodes on "
            f"{', '.join(others)}; log to a tracking server instead (`runner server ...`, then "
            "--tracking-uri http://HOST:5000)")


class RayExecutor(Executor):
    """Points on Ray actors, one CPU each; ``parallel`` caps them (default: the cluster's CPUs)."""

    name = "ray"

    def __init__(self, parallel: int | None = None, *, address: str | None = None,
                 runtime_env: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.parallel = parallel
        self.address = address
        self.runtime_env = runtime_env
        self._ray: Any = None
        self._connected_here = False
        self._actors: list[Any] = []
        self._waiting: dict[Any, Any] = {}  # ready() ref -> actor still starting
        self._inflight: dict[Any, tuple[PointTask, Any, float]] = {}
        self._stop_key = f"runner-sweep-stop-{uuid.uuid4().hex}"
        self._started = 0.0
        self._starting: threading.Thread | None = None
        self._started_event = threading.Event()
        self._release = threading.Event()
        self._start_error: BaseException | None = None

    # --- the cluster and the workers ----------------------------------------------------------

    def start(self, points: list[SweepPoint], tracking_uri: str) -> None:
        """Connect to (or start) the cluster and create the actors in a background thread,
        while the driver checks inputs; :meth:`ready` waits for it."""
        ray = self._ray = import_ray()
        self._started = time.perf_counter()
        self._starting = threading.Thread(target=self._start, args=(ray, points, tracking_uri),
                                          name="runner-ray-start", daemon=True)
        self._starting.start()

    def _start(self, ray: Any, points: list[SweepPoint], tracking_uri: str) -> None:
        try:
            # No address: a new local cluster, even when `ray start` left one running here
            # (`--ray-address auto` picks that one).
            address = self.address or os.environ.get("RAY_ADDRESS") or "local"
            if not ray.is_initialized():
                self._init(ray, address)
            refuse_local_store(tracking_uri, ray.nodes(), ray.util.get_node_ip_address())
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            workers = max(1, min(self.parallel or cpus, len(points)))
            worker_class = ray.remote(PointWorker).options(
                num_cpus=1, max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS,
                scheduling_strategy="SPREAD")
            modules = worker_modules(points, tracking_uri)
            env = worker_env()
            for _ in range(workers):
                actor = worker_class.remote(tracking_uri, modules, self._stop_key, os.getcwd(), env)
                self._actors.append(actor)
                self._waiting[actor.ready.remote()] = actor
            self.stats.workers = workers
        except BaseException as exc:  # noqa: BLE001 - raised again in the driver's thread by ready()
            self._start_error = exc
        finally:
            self._started_event.set()
            if self._connected_here:
                # A local cluster's processes die with the thread that started them (Ray sets
                # their parent-death signal): this thread lives until the cluster is stopped.
                self._release.wait()

    def ready(self, points: list[SweepPoint], tracking_uri: str) -> None:
        if self._starting is not None:
            self._started_event.wait()
        if self._start_error is not None:
            raise self._start_error

    def _init(self, ray: Any, address: str | None) -> None:
        """``ray.init`` for this sweep, quietly; the CLI's SIGTERM handling survives it."""
        kwargs: dict[str, Any] = {
            "address": address, "runtime_env": self.runtime_env, "log_to_driver": False,
            "logging_level": logging.WARNING, "include_dashboard": False,
        }
        if address in (None, "local"):  # a local cluster, started for this sweep
            kwargs["num_cpus"] = self.parallel or os.cpu_count() or 1
        else:
            kwargs.pop("include_dashboard")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report at start-up
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGTERM) if in_main else None
        quiet = [logging.getLogger(name) for name in QUIET_LOGGERS]
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.ERROR)
        try:
            ray.init(**kwargs)
        except ConnectionError as exc:
            raise InputError(f"cannot connect to the Ray cluster at {address}: {exc}".splitlines()[0]
                             ) from None
        finally:
            for logger, level in zip(quiet, levels, strict=True):
                logger.setLevel(level)
            if in_main and previous is not None:  # ray.init's own handler would skip our cleanup
                signal.signal(signal.SIGTERM, previous)
        self._connected_here = True
        _raylet_notes_to_stderr(ray)


    def close(self) -> None:
        ray = self._ray
        if self._starting is not None:
            self._started_event.wait()
        try:
            if ray is None or not ray.is_initialized():
                return
            with contextlib.suppress(Exception):
                from ray.experimental import internal_kv

                internal_kv._internal_kv_del(self._stop_key)
            for actor in self._actors:
                with contextlib.suppress(Exception):
                    ray.kill(actor, no_restart=True)
            self._actors.clear()
            if self._connected_here:  # stops the local cluster if this sweep started it
                _stop_autoscaler_monitor(ray)
                ray.shutdown()
                self._connected_here = False
        finally:
            self._release.set()
            if self._starting is not None:
                self._starting.join()

    # --- running points -----------------------------------------------------------------------

    def run(
        self, tasks: list[PointTask], plugins: Plugins, *, tracking_uri: str,
        tags: Mapping[str, str], force: bool,
    ) -> Iterator[tuple[int, RunOutcome]]:
        from runner.runs import RunOutcome

        ray = self._ray
        pending = deque(tasks)
        idle: list[Any] = []
        failures: list[str] = []
        while pending or self._inflight:
            while idle and pending:
                task, actor = pending.popleft(), idle.pop()
                ref = actor.run.remote(task.config, tracking_uri, {**tags, **task.tags}, force,
                                       task.config_hash, time.time())
                self._inflight[ref] = (task, actor, time.time())
            if not self._inflight and not self._waiting:
                raise RunnerError(f"no Ray worker could start: {failures[-1] if failures else '?'}")
            refs = [*self._inflight, *self._waiting]
            timeout = None if self._inflight or idle else READY_TIMEOUT_SEC
            ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
            if not ready:
                raise RunnerError(f"no Ray worker started within {READY_TIMEOUT_SEC:.0f} s: does "
                                  "the cluster have a free CPU? (`ray status`)")
            ref = ready[0]
            if ref in self._waiting:
                actor = self._waiting.pop(ref)
                try:
                    ray.get(ref)
                except ray.exceptions.RayError as exc:
                    failures.append(_first_line(exc))
                    continue
                if self.stats.startup_sec is None:
                    self.stats.startup_sec = time.perf_counter() - self._started
                idle.append(actor)
                continue
            task, actor, submitted = self._inflight.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayActorError as exc:  # died more than MAX_RESTARTS times
                yield task.index, RunOutcome(
                    run_id="-", experiment=str(task.config.get("experiment")), status="FAILED",
                    params={}, metrics={},
                    error=f"WorkerDied: the Ray worker running it died {MAX_RESTARTS + 1} times: "
                          f"{_first_line(exc)}")
                continue
            except ray.exceptions.RayTaskError as exc:  # the point raised before its run existed
                idle.append(actor)
                if isinstance(exc.cause, RunnerError):
                    raise exc.cause from None
                yield task.index, RunOutcome(
                    run_id="-", experiment=str(task.config.get("experiment")), status="FAILED",
                    params={}, metrics={}, error=_first_line(exc))
                continue
            idle.append(actor)
            self.stats.dispatch_sec.append(max(0.0, result["started"] - submitted))
            self.stats.nodes[result["node"]] = self.stats.nodes.get(result["node"], 0) + 1
            self.stats.restarts += len(result["ended_attempts"])
            yield task.index, RunOutcome(**result["outcome"])

    def interrupt(self) -> None:
        """Ask every worker to stop its point (it ends KILLED); wait a little for them."""
        ray = self._ray
        if ray is None or not ray.is_initialized():
            return
        with contextlib.suppress(Exception):
            from ray.experimental import internal_kv

            internal_kv._internal_kv_put(self._stop_key, b"1", overwrite=True)
        if self._inflight:
            with contextlib.suppress(Exception):
                ray.wait(list(self._inflight), num_returns=len(self._inflight),
                         timeout=INTERRUPT_GRACE_SEC)
        self._inflight.clear()


def _stop_autoscaler_monitor(ray: Any) -> None:
    """Kill the autoscaler monitor of a local cluster this process started, before
    ``ray.shutdown()``: Ray stops the GCS first, and the monitor's SIGTERM handler then waits on
    the stopped GCS until Ray's 1 s grace runs out (1.0 s of a 1.4 s shutdown, measured). A local
    cluster has nothing to autoscale; if Ray's internals moved, ``ray.shutdown()`` does it."""
    with contextlib.suppress(Exception):
        node = ray._private.worker._global_node
        for process_info in node.all_processes.get(ray._private.ray_constants.PROCESS_TYPE_MONITOR, []):
            process_info.process.kill()
            process_info.process.wait(timeout=1)


def _raylet_notes_to_stderr(ray: Any) -> None:
    """Ray prints its raylet's notes (a worker died, its task is retried) on stdout; stdout is for
    ``--json``, so they go to stderr."""
    module = getattr(getattr(ray, "_private", None), "worker", None)
    original = getattr(module, "print_to_stdstream", None)
    if original is None or getattr(original, "_runner_patched", False):
        return

    def print_to_stdstream(data: dict[str, Any], ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    print_to_stdstream._runner_patched = True  # type: ignore[attr-defined]
    module.print_to_stdstream = print_to_stdstream


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    cause = getattr(exc, "cause", None)
    if cause is not None and str(cause).strip():
        text = f"{type(cause).__name__}: {cause}"
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__


class PointWorker:
    """A Ray actor: imports once, then runs point after point (``run``)."""

    def __init__(self, tracking_uri: str, modules: list[str], stop_key: str, cwd: str,
                 env: dict[str, str]) -> None:
        import ray

        os.environ.update(env)
        if cwd and os.path.isdir(cwd):  # same relative data paths and code version as the driver
            os.chdir(cwd)
        import_worker_modules(modules)
        from runner.plugins import load_plugins
        from runner.store import mlflow_store

        self.plugins = load_plugins()
        mlflow_store.reached_by_driver(tracking_uri)  # a restarted actor waits out a server restart
        mlflow_store.client(tracking_uri)  # open (and check) the store once
        context = ray.get_runtime_context()
        self.actor_id = context.get_actor_id()
        self.node_id = context.get_node_id()
        self.reconstructed = bool(context.was_current_actor_reconstructed)
        self.stop_key = stop_key
        self._lock = threading.Lock()
        self._busy = False

    def ready(self) -> dict[str, Any]:
        return {"node": self.node_id, "pid": os.getpid(), "host": socket.gethostname()}

    def run(self, config: dict[str, Any], tracking_uri: str, tags: dict[str, str], force: bool,
            config_hash: str, submitted: float) -> dict[str, Any]:
        """One point; returns its outcome and where and when it ran."""
        from runner.errors import Interrupted
        from runner.runs import RunOutcome

        started = time.time()
        ended: list[str] = []
        outcome: RunOutcome | None = None
        if self.reconstructed:  # this process replaces one that died: maybe mid-point
            ended, outcome = self._after_restart(config, tracking_uri, tags, config_hash)
        if outcome is None:
            tags = {**tags, RAY_NODE_TAG: self.node_id, RAY_ACTOR_TAG: self.actor_id}
            try:
                with self._stop_watch():
                    outcome = run_point(self.plugins, config, tracking_uri, tags, force)
            except Interrupted as stop:
                outcome = RunOutcome(str(stop.run_id or "-"), str(config.get("experiment")),
                                     "KILLED", {}, {}, "Interrupted: the sweep was interrupted")
            except KeyboardInterrupt:  # the stop arrived as the point ended
                outcome = RunOutcome("-", str(config.get("experiment")), "KILLED", {}, {},
                                     "Interrupted: the sweep was interrupted")
        return {"outcome": dataclasses.asdict(outcome), "node": self.node_id, "started": started,
                "submitted": submitted, "ended_attempts": ended}

    def _after_restart(
        self, config: dict[str, Any], tracking_uri: str, tags: dict[str, str], config_hash: str,
    ) -> tuple[list[str], RunOutcome | None]:
        """End this actor's dead attempts FAILED; the point's FINISHED run if one got that far."""
        from runner.liveness import stale_reason
        from runner.overrides import flatten
        from runner.runs import RunOutcome
        from runner.store import mlflow_store, names

        experiment, parent = str(config["experiment"]), tags[names.PARENT_RUN_TAG]
        ended = []
        for run in mlflow_store.sweep_children(tracking_uri, experiment, parent, status="RUNNING",
                                               tags={RAY_ACTOR_TAG: self.actor_id}):
            mlflow_store.mark_failed(
                tracking_uri, run.run_id,
                f"{stale_reason(run.tags)}: the Ray worker died mid-point (Ray node "
                f"{run.tags.get(RAY_NODE_TAG, '?')[:12]}); Ray restarted it and ran the point again")
            ended.append(run.run_id)
        finished = mlflow_store.sweep_children(tracking_uri, experiment, parent, status="FINISHED",
                                               tags={names.CONFIG_HASH_TAG: config_hash})
        if not finished:
            return ended, None
        run = finished[0]
        return ended, RunOutcome(run.run_id, experiment, "FINISHED", flatten(config["params"]),
                                 dict(run.metrics))

    @contextlib.contextmanager
    def _stop_watch(self) -> Iterator[None]:
        """While the point runs, a thread watches for the driver's stop and interrupts it."""
        import _thread

        from ray.experimental import internal_kv

        done = threading.Event()

        def watch() -> None:
            while not done.wait(STOP_POLL_SEC):
                try:
                    stop = internal_kv._internal_kv_get(self.stop_key)
                except Exception:  # noqa: BLE001 - the driver is gone or busy: look again
                    continue
                with self._lock:
                    if stop and self._busy:
                        _thread.interrupt_main()  # the point runs in the main thread
                        return

        with self._lock:
            self._busy = True
        watcher = threading.Thread(target=watch, name="runner-stop-watch", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            with self._lock:
                self._busy = False
            done.set()
            watcher.join()
