"""Every MLflow tag and artifact name the core writes and reads back, defined once.

Writers (the store, the built-in plugins) and readers (compare, reproduce, skip-if-done, sweeps)
import these; no module spells a ``runner.*`` tag or an artifact name itself.
"""

from __future__ import annotations

# --- artifacts ---------------------------------------------------------------------------------

#: The complete resolved config of a run: enough on its own to run it again.
CONFIG_ARTIFACT = "config.json"
#: The per-item table (``ctx.log_items``) that ``runner compare`` lines up.
ITEMS_ARTIFACT = "items.json"
#: The traceback of a run that ended FAILED or KILLED.
ERROR_ARTIFACT = "error.txt"
#: A sweep parent's results table.
SWEEP_RESULTS_ARTIFACT = "sweep_results.json"

# --- MLflow's own tags -------------------------------------------------------------------------

PARENT_RUN_TAG = "mlflow.parentRunId"
#: Experiment tag: which page the MLflow UI opens the experiment on.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
#: Prompt tag the MLflow UI filters a experiment's Prompts tab on: ``,<id>,<id>,``.
PROMPT_EXPERIMENTS_TAG = "_mlflow_experiment_ids"
GIT_COMMIT_TAG = "mlflow.source.git.commit"

# --- provenance --------------------------------------------------------------------------------

VERSION_TAG = "runner.version"
EXPERIMENT_TYPE_TAG = "runner.experiment_type"
CONFIG_HASH_TAG = "runner.config_hash"
PYTHON_TAG = "runner.python"
PLATFORM_TAG = "runner.platform"
PACKAGES_TAG = "runner.packages"
PLUGIN_TAG = "runner.plugin"
PLUGIN_DIST_TAG = "runner.plugin.dist"
PLUGIN_VERSION_TAG = "runner.plugin.version"
REGISTRY_ENTRY_TAG = "runner.registry_entry"
SEED_TAG = "runner.seed"
GIT_DIRTY_TAG = "runner.git.dirty"
#: The commit plus a hash of the uncommitted diff: what reproduce compares.
CODE_VERSION_TAG = "runner.code_version"

# --- the process running a run (runner.liveness) ------------------------------------------

HOST_TAG = "runner.host"
PID_TAG = "runner.pid"
PROCESS_START_TAG = "runner.process_start"
#: Why a run was marked FAILED by ``runner runs --stale --fix`` (its process was gone).
STALE_TAG = "runner.stale"

#: The Ray node and actor that ran a sweep point (``runner sweep --executor ray``).
RAY_NODE_TAG = "runner.ray.node"
RAY_ACTOR_TAG = "runner.ray.actor"

# --- identity and results ----------------------------------------------------------------------

#: What makes two runs the same (skip-if-done).
CONTENT_KEY_TAG = "runner.content_key"
#: Prefix of one tag per input a run read: ``runner.input_digest.<name>`` = the SHA-256 of its
#: bytes (a dataset's local source file or folder, a declared file or text), else MLflow's
#: dataset digest. The content key and reproduce's drift report compare these.
INPUT_DIGEST_TAG_PREFIX = "runner.input_digest."
#: Prefix of one tag per model: ``runner.model_uri.<name>``.
MODEL_URI_TAG_PREFIX = "runner.model_uri."
ITEMS_KEY_TAG = "runner.items.key"
ITEMS_OUTPUT_TAG = "runner.items.output"
#: Comma-separated per-item score columns that ``runner compare`` tests pairwise.
ITEMS_SCORES_TAG = "runner.items.scores"
#: Set when evaluate/log ran on partial results and raised: the first line of that error.
PARTIAL_ERROR_TAG = "runner.partial_error"
#: The failed/interrupted phase of a run that did not finish.
FAILED_PHASE_TAG = "runner.failed_phase"

# --- sweeps and reproduction -------------------------------------------------------------------

SWEEP_TAG = "runner.sweep"
SWEEP_POINTS_TAG = "runner.sweep.points"
#: On a repeat parent (``--repeat N``): N, the number of seeds its children ran.
REPEATS_TAG = "runner.repeats"
#: On a repeated child: its repeat index (0-based; its seed is the base seed + this).
REPEAT_INDEX_TAG = "runner.repeat.index"
BEST_RUN_TAG = "runner.best_run_id"
REPRODUCES_TAG = "runner.reproduces"
