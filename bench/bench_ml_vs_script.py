"""`runner run ml-baseline` end to end vs. the hand-written MLflow script it replaces.

Both sides train the same model (StandardScaler + LogisticRegression(C=1.0, max_iter=100)) on the
same stratified 80/20 split of scikit-learn's wine data, log the same params, metrics, dataset,
confusion matrix, classification report and model, into the same sqlite store. Each side runs in
a fresh Python process (cold imports included), alternating, and the median wall time counts.

The script is written the way the original project wrote experiments: set_experiment, fit,
``log_param`` per value, ``log_metric`` per value, ``mlflow.sklearn.log_model`` with its defaults
(which infer the pip requirements). Target: runner <= 0.4x the script's wall time.

    .venv/bin/python bench/bench_ml_vs_script.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_RATIO = 0.4

#: The repo's registry, whose ``ml-baseline`` entry is the run being measured.
REGISTRY = ROOT / "registry.yaml"

SCRIPT = r'''
import sys
import time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import mlflow.sklearn
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (ConfusionMatrixDisplay, accuracy_score, classification_report,
                             f1_score, precision_score, recall_score, roc_auc_score)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("ml-experiments")

C, MAX_ITER, TEST_SIZE, SEED = 1.0, 100, 0.2, 42
wine = load_wine(as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    wine.data, wine.target, test_size=TEST_SIZE, random_state=SEED, stratify=wine.target)

with mlflow.start_run():
    mlflow.log_param("model", "logistic_regression")
    mlflow.log_param("C", C)
    mlflow.log_param("max_iter", MAX_ITER)
    mlflow.log_param("penalty", "l2")
    mlflow.log_param("solver", "lbfgs")
    mlflow.log_param("dataset.name", "wine")
    mlflow.log_param("test_size", TEST_SIZE)
    mlflow.log_param("seed", SEED)
    mlflow.log_param("scale", True)
    mlflow.log_input(mlflow.data.from_pandas(wine.frame, source="sklearn.datasets.load_wine",
                                             name="wine", targets="target"), context="training")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=MAX_ITER,
                                                               random_state=SEED))
    start = time.perf_counter()
    model.fit(X_train, y_train)
    mlflow.log_metric("fit_time_sec", time.perf_counter() - start)
    predictions = model.predict(X_test)
    mlflow.log_metric("accuracy", accuracy_score(y_test, predictions))
    mlflow.log_metric("f1_macro", f1_score(y_test, predictions, average="macro"))
    mlflow.log_metric("precision_macro", precision_score(y_test, predictions, average="macro"))
    mlflow.log_metric("recall_macro", recall_score(y_test, predictions, average="macro"))
    mlflow.log_metric("roc_auc", roc_auc_score(y_test, model.predict_proba(X_test),
                                               multi_class="ovr"))
    display = ConfusionMatrixDisplay.from_predictions(y_test, predictions)
    mlflow.log_figure(display.figure_, "confusion_matrix.png")
    plt.close(display.figure_)
    mlflow.log_text(classification_report(y_test, predictions), "classification_report.txt")
    mlflow.sklearn.log_model(model, name="model", input_example=X_test[:5])
'''


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one fresh process; a failure stops the benchmark with its output."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (median counts)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ml-") as tmp:
        workdir = Path(tmp)
        uri = f"sqlite:///{workdir / 'mlflow.db'}"
        script = workdir / "baseline_script.py"
        script.write_text(SCRIPT)
        env = {**os.environ, "RUNNER_REGISTRY": str(REGISTRY), "MLFLOW_TRACKING_URI": uri}
        runner_cmd = [str(BIN / "runner"), "run", "ml-baseline", "--tracking-uri", uri]
        script_cmd = [sys.executable, str(script), uri]

        # Create the store once, so neither side pays for the database migrations.
        timed([sys.executable, "-c",
               "import mlflow, sys; mlflow.MlflowClient(sys.argv[1]).search_experiments()", uri],
              env)
        times: dict[str, list[float]] = {"runner": [], "script": []}
        for _ in range(args.repeats):
            times["script"].append(timed(script_cmd, env))
            times["runner"].append(timed(runner_cmd, env))

    runner_s = statistics.median(times["runner"])
    script_s = statistics.median(times["script"])
    ratio = runner_s / script_s
    print(f"{'side':<34} {'median s':>9}  runs (s)")
    print(f"{'hand-written MLflow script':<34} {script_s:>9.2f}  "
          + " ".join(f"{t:.2f}" for t in times["script"]))
    print(f"{'runner run ml-baseline':<34} {runner_s:>9.2f}  "
          + " ".join(f"{t:.2f}" for t in times["runner"]))
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"ratio runner/script: {ratio:.2f}x ({verdict} the <= {TARGET_RATIO}x target)")


if __name__ == "__main__":
    main()
