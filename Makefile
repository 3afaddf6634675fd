# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run worker test lint typecheck check bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the service with its test tools

run: install ## the Temporal dev server (Web UI on :8233) and the worker, in the foreground
	$(BIN)/python -m peer_review.local

worker: install ## only the worker, against TEMPORAL_ADDRESS
	$(BIN)/peer-review-worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

test: install ## the whole suite: lint, types, unit, workflow, end-to-end, replay
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
