"""The example notebook runs top to bottom against the embedded sqlite default (nbclient)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


@pytest.mark.slow
def test_example_notebook_runs_and_logs_to_the_default_store(tmp_path, monkeypatch):
    folder = tmp_path / "examples"
    folder.mkdir()
    shutil.copy(NOTEBOOK, folder)
    monkeypatch.setenv("RUNNER_REGISTRY", str(ROOT / "registry.yaml"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    notebook = nbformat.read(folder / NOTEBOOK.name, as_version=4)
    # a run whose plugin iterates with ctx.progress, asked for progress in the notebook: no
    # live bar (rich would need ipywidgets there) and no warning, just the run
    notebook.cells.append(nbformat.v4.new_code_cell(
        'bm25 = runner.run("rag-config", retriever="bm25", progress=True)\n'
        'print("progress run", bm25.status)'))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    outputs = {i: cell.get("outputs", []) for i, cell in enumerate(notebook.cells)
               if cell.cell_type == "code"}
    errors = [o for cell in outputs.values() for o in cell if o.get("output_type") == "error"]
    assert errors == []
    text = "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                     for cell in outputs.values() for o in cell)
    assert "invalid params for ml-baseline" in text  # the InputError cell printed the CLI line
    assert "over 3 seeds" in text and "reproduced: True" in text
    assert "progress run FINISHED" in text
    assert "ipywidgets" not in text, [l for l in text.splitlines() if "ipywidgets" in l or "warn" in l]
    assert (folder / "mlflow.db").is_file()  # the embedded default, next to the notebook
    import runner

    runs = runner.compare(
        [], experiment="ml-experiments", metric="accuracy", top=20,
        tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    # C=0.3 ran once: the repeat's first seed and the sweep's C=0.3 point were skipped as
    # done; + 2 more seeds, 2 more sweep points and the reproduction
    assert len(runs.runs) == 6
