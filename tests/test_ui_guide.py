"""The guide, walked in a browser: headless Chromium drives `runner ui` (a real MLflow UI server on
a loopback port) over a store made by running the registry entries, and checks each step the
README promises: the four experiments, runs named after their entries, Compare on two ml runs, the
nn loss curve per epoch, the llm params/metrics/artifacts, the rag params/metrics, and the cost
ledger on every run.

Chromium is Debian's ``chromium`` package (``tests/ensure-chromium.sh`` installs it), driven by
Playwright for Python through ``executable_path``: no browser is ever downloaded. A missing
Chromium fails the module with the line saying what to install, never a skip. Screenshots of every
step go to the module's temporary folder (printed with ``-s``; kept by pytest's tmp retention).
Any uncaught error in the page (``pageerror``) fails the step.

MLflow 3.17 opens an experiment according to the sidebar's workflow switch ("GenAI" / "Model
training", remembered by the browser), not the experiment's ``mlflow.experimentKind`` tag: the
ml/nn steps switch to "Model training" (the runs table), the llm/rag steps to "GenAI", where
runs with evaluation datasets are listed under "Evaluation runs".
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("RUNNER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
#: The registry entries the guide walks, longest first (two at a time on two cores).
ENTRIES = ("llm-prompt", "rag-config", "nn-baseline", "ml-baseline", "ml-improved")
EXPERIMENTS = ("ml-experiments", "nn-experiments", "llm-experiments", "rag-experiments")
#: The core's cost ledger: on every run, whatever its type.
LEDGER = ("cost_usd", "compute_cost_usd", "api_cost_usd", "wall_time_sec", "cpu_time_sec",
          "peak_memory_mb")
STEP_TIMEOUT_MS = 60_000

#: The rows of a run page's "Parameters (N)" or "Metrics (N)" table: [[name, value], ...].
OVERVIEW_TABLE_JS = """(title) => {
  const h = [...document.querySelectorAll('h4')].find(e => e.textContent.startsWith(title + ' ('));
  if (!h) return null;
  const table = h.parentElement.querySelector('[role=table]');
  return [...table.querySelectorAll('[role=row]')]
    .map(r => [...r.querySelectorAll('[role=cell]')].map(c => c.textContent.trim()))
    .filter(cells => cells.length >= 2);
}"""

#: The values of one metric on the Compare page (a virtualized grid of names beside one of
#: values, rows aligned by their offset): [value of run 1, value of run 2, ...].
COMPARE_METRIC_JS = """(name) => {
  const link = [...document.querySelectorAll('a[title="Plot chart"]')]
    .find(a => a.textContent.trim() === name);
  if (!link) return null;
  const cell = link.parentElement;
  const grids = [...document.querySelectorAll('.ReactVirtualized__Grid')];
  const values = grids[grids.indexOf(cell.closest('.ReactVirtualized__Grid')) + 1];
  return [...values.querySelectorAll('.ReactVirtualized__Grid__innerScrollContainer > div')]
    .filter(d => d.style.top === cell.style.top)
    .sort((a, b) => parseFloat(a.style.left) - parseFloat(b.style.left))
    .map(d => d.textContent.trim());
}"""


def _require_chromium() -> None:
    """Fail (never skip) with the one line of tests/ensure-chromium.sh when Chromium is absent."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser test needs headless Chromium at {CHROMIUM}: install Debian's "
                    "chromium package (tests/ensure-chromium.sh, or sudo apt-get install "
                    "chromium) or set RUNNER_CHROMIUM", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("the browser test needs Playwright for Python: pip install playwright "
                    "(the browser is Debian's chromium, never `playwright install`)", pytrace=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Store:
    """The store the registry entries ran into, and the UI serving it."""

    uri: str
    #: entry name -> run id
    run_ids: dict[str, str]
    #: registry.yaml's entries
    registry: dict[str, Any]
    #: the UI's base URL
    base: str


def _run_entry(entry: str, uri: str, folder: Path) -> tuple[str, str, float]:
    """``runner run ENTRY --json``, as a user types it: (entry, run id, seconds)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "runner", "run", entry, "--tracking-uri", uri, "--json"],
        capture_output=True, text=True, cwd=folder, timeout=600,
        env={**os.environ, "RUNNER_REGISTRY": str(ROOT / "registry.yaml")},
    )
    assert done.returncode == 0, f"runner run {entry}: {done.stderr[-2000:]}"
    result = json.loads(done.stdout)
    assert result["status"] == "FINISHED", result
    return entry, result["run_id"], time.monotonic() - started


def _wait_until_up(server: subprocess.Popen[bytes], base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert server.poll() is None, server.stderr.read().decode()[-2000:] if server.stderr \
            else "runner ui exited"
        assert time.monotonic() < deadline, f"the UI did not answer within {timeout:.0f} s"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Run the entries two at a time into a fresh store; ``runner ui`` on a free loopback port
    starts as soon as the first run has created the store, while the others run."""
    _require_chromium()  # before minutes of runs
    folder = tmp_path_factory.mktemp("guide-store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    base = f"http://127.0.0.1:{_free_port()}"
    server: subprocess.Popen[bytes] | None = None
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            pending = {pool.submit(_run_entry, entry, uri, folder) for entry in ENTRIES}
            done: list[tuple[str, str, float]] = []
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                done += [future.result() for future in finished]
                if server is None:  # the store exists now: start the UI alongside the runs
                    server = subprocess.Popen(
                        [sys.executable, "-m", "runner", "ui", "--port", base.rsplit(":", 1)[1],
                         "--tracking-uri", uri],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                    )
        assert server is not None
        _wait_until_up(server, base)
        timings = ", ".join(f"{entry} {seconds:.0f} s" for entry, _, seconds in done)
        print(f"\nstore and UI ready in {time.monotonic() - started:.0f} s ({timings})")
        registry = yaml.safe_load((ROOT / "registry.yaml").read_text())["experiments"]
        yield Store(uri, {entry: run_id for entry, run_id, _ in done}, registry, base)
    finally:  # the UI starts worker processes (uvicorn, job consumers): stop the whole group
        if server is not None:
            _stop_group(server)


def _live_members(group: int) -> list[int]:
    """Processes of process group ``group`` that are still running (not zombies)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _stop_group(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group; SIGKILL whatever is left after 30 s."""
    os.killpg(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _live_members(server.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    if _live_members(server.pid):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("guide-screenshots")
    print(f"\nscreenshots of the guide walk: {folder}")
    return folder


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    """One Chromium and one browsing context (the UI's remembered choices carry across steps)."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(STEP_TIMEOUT_MS)
        yield context
        browser.close()


@dataclass
class Walk:
    """A page of the UI, the screenshots folder and the page errors seen so far."""

    page: Any
    base: str
    shots: Path
    errors: list[str]

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"))

    def experiment_link(self, name: str) -> Any:
        """The experiments list's link to ``name`` (not a sidebar or breadcrumb link)."""
        return self.page.locator(f'a[data-testid="experiment-list-item-link"][title="{name}"]')

    def experiments(self, workflow: str) -> None:
        """The experiments list, with the sidebar's workflow switch on ``workflow``."""
        page = self.page
        page.goto(f"{self.base}/#/experiments")
        self.experiment_link("ml-experiments").wait_for()
        close = page.locator('[data-component-id="mlflow.assistant.chat_panel.close"]')
        if close.is_visible():  # the assistant panel opens on a first visit: give the page room
            close.click()
        page.get_by_text(workflow, exact=True).click()

    def dismiss_popover(self) -> None:
        """GenAI pages greet a first visit with a "Detect Issues" popover over the page."""
        got_it = self.page.get_by_role("button", name="Got it")
        try:
            got_it.click(timeout=5_000)
        except Exception:  # noqa: BLE001 - not shown (already dismissed in this browser)
            pass

    def overview(self) -> tuple[dict[str, str], dict[str, str]]:
        """A run page's Parameters and Metrics tables, name -> value as displayed."""
        page = self.page
        page.get_by_role("heading", name="Metrics (").wait_for()
        page.get_by_role("heading", name="Parameters (").wait_for()
        params = page.evaluate(OVERVIEW_TABLE_JS, "Parameters")
        metrics = page.evaluate(OVERVIEW_TABLE_JS, "Metrics")  # a 3rd column: the logged model
        return {row[0]: row[1] for row in params}, {row[0]: row[1] for row in metrics}

    def evaluation_run(self, experiment: str, run_name: str) -> str:
        """GenAI: the experiment's "Evaluation runs" lists ``run_name``; open its run page."""
        page = self.page
        self.experiments("GenAI")
        self.experiment_link(experiment).click()
        self.dismiss_popover()
        page.get_by_role("link", name="Evaluation runs").click()
        row = page.locator(".eval-runs-table-row").filter(
            has=page.get_by_text(run_name, exact=True))
        href = row.locator('a[href*="/runs/"]').first.get_attribute("href")
        assert href, f"no run named {run_name!r} under {experiment} > Evaluation runs"
        return href.split("/evaluations")[0]

    def artifact_text(self, name: str) -> str:
        """Open artifact ``name`` in the run's Artifacts tab; the text its preview shows."""
        page = self.page
        page.get_by_text(name, exact=True).click()
        page.get_by_text(f"artifacts/{name}").wait_for()
        preview = page.locator(".mlflow-ShowArtifactPage pre")
        preview.wait_for()
        return str(preview.inner_text())


@pytest.fixture
def walk(browser_context: Any, store: Store, shots: Path) -> Iterator[Walk]:
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield Walk(page, store.base, shots, errors)
    page.close()
    assert errors == [], f"errors in the page: {errors}"


def _assert_ledger(metrics: dict[str, str], run: str) -> None:
    missing = [name for name in LEDGER if name not in metrics]
    assert missing == [], f"{run}: cost ledger metrics missing from the run page: {missing}"
    assert float(metrics["cost_usd"]) > 0 and float(metrics["wall_time_sec"]) > 0


def test_1_the_four_experiments_are_listed(walk: Walk) -> None:
    walk.experiments("Model training")
    for name in EXPERIMENTS:
        assert walk.experiment_link(name).is_visible(), name
    walk.shot("01-experiments")


def test_2_ml_compare_two_runs(walk: Walk, store: Store) -> None:
    page = walk.page
    walk.experiments("Model training")
    walk.experiment_link("ml-experiments").click()
    # Model training opens the runs table, where runs carry their registry entry's name
    for name in ("ml-baseline", "ml-improved"):
        page.get_by_role("link", name=name, exact=True).wait_for()
    assert "/runs" in page.url and "overview" not in page.url, page.url
    for name in ("ml-baseline", "ml-improved"):
        row = page.locator(".ag-row").filter(has=page.get_by_role("link", name=name, exact=True))
        row.locator("input.ag-checkbox-input").check()
    walk.shot("02-ml-runs-selected")
    page.get_by_role("button", name="Compare").click()
    page.get_by_text("Comparing 2 Runs").wait_for()
    run_ids = json.loads(parse_qs(urlparse(page.url.replace("#/", "")).query)["runs"][0])
    assert set(run_ids) == {store.run_ids["ml-baseline"], store.run_ids["ml-improved"]}
    names = page.locator("tr", has=page.get_by_text("Run Name:", exact=True)).locator("td")
    assert sorted(names.all_inner_texts()) == ["ml-baseline", "ml-improved"]
    walk.shot("03-ml-compare")

    differing = page.locator("tr.diff-row th")
    differing.first.wait_for()
    assert {"C", "max_iter"} <= set(differing.all_inner_texts())
    page.get_by_role("switch", name="Parameters - Show diff only").evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    walk.shot("04-ml-compare-params")
    by_run = {run_ids[0]: 0, run_ids[1]: 1}
    base, improved = by_run[store.run_ids["ml-baseline"]], by_run[store.run_ids["ml-improved"]]
    for name in ("C", "max_iter"):
        cells = page.locator("tr.diff-row", has=page.get_by_text(name, exact=True)).locator("td")
        values = cells.all_inner_texts()
        expected = store.registry["ml-baseline"]["params"][name], \
            store.registry["ml-improved"]["params"][name]
        assert (float(values[base]), float(values[improved])) == expected, (name, values)

    page.get_by_role("switch", name="Metrics - Show diff only").evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    accuracy = page.evaluate(COMPARE_METRIC_JS, "accuracy")
    walk.shot("05-ml-compare-metrics")
    assert accuracy is not None and len(accuracy) == 2, accuracy
    assert accuracy[base] != accuracy[improved], accuracy
    for name in LEDGER:  # the cost ledger, compared like any metric
        assert page.evaluate(COMPARE_METRIC_JS, name) is not None, name


def test_3_nn_loss_curve_has_a_point_per_epoch(walk: Walk, store: Store) -> None:
    page = walk.page
    histories: list[dict[str, Any]] = []

    def keep(response: Any) -> None:
        query = parse_qs(urlparse(response.url).query)
        if "/metrics/get-history" in response.url and query.get("metric_key") == ["loss"]:
            histories.append(response.json())

    page.on("response", keep)
    walk.experiments("Model training")
    walk.experiment_link("nn-experiments").click()
    page.get_by_role("link", name="nn-baseline", exact=True).click()
    params, metrics = walk.overview()
    _assert_ledger(metrics, "nn-baseline")
    page.get_by_role("tab", name="Model metrics").click()
    page.get_by_placeholder("Search metric charts").fill("loss")
    page.get_by_text("nn-baseline (loss)").wait_for()  # the loss chart's legend
    deadline = time.monotonic() + 30
    while not histories and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    walk.shot("06-nn-loss-chart")
    assert histories, "the loss chart loaded no metric history"
    points = histories[-1]["metrics"]
    epochs = store.registry["nn-baseline"]["params"]["epochs"]
    assert params["epochs"] == str(epochs)
    assert sorted(p["step"] for p in points) == list(range(1, epochs + 1)), \
        [p["step"] for p in points]


def test_4_llm_params_metrics_and_artifacts(walk: Walk, store: Store) -> None:
    page = walk.page
    run_page = walk.evaluation_run("llm-experiments", "llm-prompt")
    walk.shot("07-llm-evaluation-runs")
    assert store.run_ids["llm-prompt"] in run_page
    # the prompt the run used is listed in its own experiment's Prompts page
    page.get_by_role("link", name="Prompts", exact=True).click()
    page.get_by_role("link", name=store.registry["llm-prompt"]["params"]["prompt_name"],
                     exact=True).wait_for()
    walk.shot("08-llm-prompts")
    page.goto(f"{walk.base}/{run_page}")
    params, metrics = walk.overview()
    entry = store.registry["llm-prompt"]["params"]
    assert params["prompt_version"] == str(entry["prompt_version"])
    assert params["llm_model"] == entry["llm_model"]
    for name in ("latency_sec", "tokens_used", "cost_usd"):
        assert float(metrics[name]) > 0, name
    assert not [name for name in metrics if name.startswith("item_")]  # per item: items.json
    _assert_ledger(metrics, "llm-prompt")
    page.get_by_role("heading", name="Parameters (").evaluate(
        "e => e.scrollIntoView({block: 'center'})")
    walk.shot("09-llm-run")

    page.get_by_role("tab", name="Artifacts").click()
    prompt = walk.artifact_text("prompt.txt")
    walk.shot("10-llm-prompt-txt")
    template, _, example = prompt.partition("# rendered example")
    assert "{{question}}" in template, prompt
    instruction = template.split("\n", 1)[1].replace("{{question}}", "")
    assert len(instruction.split()) >= 4, f"prompt.txt holds no instruction: {prompt!r}"
    assert "{{" not in example and example.strip(), prompt
    response = walk.artifact_text("response.txt")
    walk.shot("11-llm-response-txt")
    assert response.startswith("### item 0") and len(response.split()) > 50, response[:500]


def test_5_rag_params_and_metrics(walk: Walk, store: Store) -> None:
    page = walk.page
    run_page = walk.evaluation_run("rag-experiments", "rag-config")
    walk.shot("12-rag-evaluation-runs")
    assert store.run_ids["rag-config"] in run_page
    page.goto(f"{walk.base}/{run_page}")
    params, metrics = walk.overview()
    entry = store.registry["rag-config"]["params"]
    for name in ("chunk_size", "retriever", "embedding_model"):
        assert params[name] == str(entry[name]), name
    assert 0 < float(metrics["answer_relevance"]) <= 1 and float(metrics["latency_sec"]) > 0
    # extractive answers: no LLM ran, so no LLM field is shown as a param
    assert not {"llm_model", "prompt_version", "backend", "temperature"} & set(params)
    _assert_ledger(metrics, "rag-config")
    page.get_by_role("heading", name="Parameters (").evaluate(
        "e => e.scrollIntoView({block: 'center'})")
    walk.shot("13-rag-run")


def test_6_every_run_has_its_entry_name_and_the_cost_ledger(walk: Walk, store: Store) -> None:
    page = walk.page
    walk.experiments("Model training")
    for entry, run_id in store.run_ids.items():
        experiment = store.registry[entry]["experiment"]
        page.goto(f"{walk.base}/#/experiments")
        walk.experiment_link(experiment).click()
        page.wait_for_url("**/experiments/*/**")
        experiment_id = urlparse(page.url.replace("#/", "")).path.split("/")[2]
        page.goto(f"{walk.base}/#/experiments/{experiment_id}/runs/{run_id}")
        page.get_by_role("heading", name=entry, exact=True).wait_for()  # the run's name
        _, metrics = walk.overview()
        _assert_ledger(metrics, entry)
    walk.shot("14-last-run-page")
