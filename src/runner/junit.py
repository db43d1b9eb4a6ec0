"""``runner run --junit FILE``: a run's per-item table as a JUnit XML report (``junit-xml``).

Each item is a test case named by its key; an item whose ``passed`` column is false fails with
its ``failure`` column as the message. CI systems (GitHub, GitLab, Jenkins) show the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.errors import InputError
from runner.store import names


def item_cases(table: dict[str, Any], key: str, output: str, classname: str) -> list[Any]:
    """Test cases from an ``items.json`` table (``{"columns": [...], "data": [[...], ...]}``)."""
    from junit_xml import TestCase

    columns: list[str] = table["columns"]
    cases = []
    for row in table["data"]:
        cell = dict(zip(columns, row, strict=True))
        latency = cell.get("latency_sec")
        case = TestCase(str(cell[key]), classname=classname, stdout=str(cell.get(output, "")),
                        elapsed_sec=float(latency) if isinstance(latency, int | float) else None)
        if cell.get("passed") is False:
            case.add_failure_info(message=str(cell.get("failure") or "failed its checks"))
        cases.append(case)
    return cases


def write_report(path: Path, tracking_uri: str, run_ids: list[str]) -> int:
    """Write one test suite per run to ``path``; returns the number of test cases.

    A run without a per-item table (its type logs none) is one ``InputError``.
    """
    from junit_xml import TestSuite, to_xml_report_string

    from runner.store import mlflow_store

    suites = []
    for run_id in run_ids:
        run = mlflow_store.get_run(tracking_uri, run_id)
        key, output = run.tags.get(names.ITEMS_KEY_TAG), run.tags.get(names.ITEMS_OUTPUT_TAG)
        if not key or not output:
            raise InputError(f"--junit: run {run_id} logged no per-item table to report")
        table = mlflow_store.load_json_artifact(tracking_uri, run_id, names.ITEMS_ARTIFACT)
        classname = run.tags.get(names.EXPERIMENT_TYPE_TAG, "runner")
        suites.append(TestSuite(run.run_name or run_id, item_cases(table, key, output, classname),
                                id=run_id))
    path.write_text(to_xml_report_string(suites, encoding="utf-8"), encoding="utf-8")
    return sum(len(s.test_cases) for s in suites)
