# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Three test processes on two cores: most tests wait on a server; see tests/conftest.py for how work is grouped.
PYTEST_ARGS ?= -n 3 --dist loadscope --no-loadscope-reorder
# Run in a process of their own, after the rest: schemathesis gives each API operation's test the same node id,
# and pytest-xdist, which hands tests out by node id, would run one operation of the 28 (tests/conftest.py refuses
# shared node ids under xdist).
SERIAL_TESTS := tests/web/test_schemathesis.py

.PHONY: install bytecode run worker test lint typecheck bench deploy-check image browser-deps clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) bytecode ## create .venv and install the service with its test tools

# The project's modules byte-compiled beside their source, as `pip install .` does for a regular install: an
# editable install leaves them as source, and where PYTHONDONTWRITEBYTECODE is set (container images, some
# machines) every `peer-review` command would compile them again. Only what changed is compiled again.
# (The worker keeps its own bytecode cache: peer_review/temporal/bytecode.py.)
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 peer_review workflows activities benchmarks starter.py worker.py dev.py

run: install ## the Temporal dev server (Web UI on :8233) and the worker, in the foreground
	$(BIN)/python dev.py

worker: install ## only the worker, against TEMPORAL_ADDRESS
	$(BIN)/peer-review-worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

browser-deps: ## Debian's Chromium for the browser tests (never a downloaded browser)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium chromium-driver; } || echo "warning: could not install chromium (need root and apt)"

test: install browser-deps ## the whole suite: lint, types, unit, workflow, end-to-end, replay, faults, browser
	$(BIN)/ruff check .
	@# mypy works the CPU while the tests mostly wait on servers, so the two run side by side; either failing fails.
	types_log=$$(mktemp); $(BIN)/mypy . > $$types_log 2>&1 & types=$$!; \
		$(BIN)/pytest $(PYTEST_ARGS) --ignore=$(SERIAL_TESTS); tests=$$?; \
		$(BIN)/pytest -p no:xdist $(SERIAL_TESTS); serial=$$?; \
		wait $$types; typed=$$?; cat $$types_log; rm -f $$types_log; \
		test $$tests -eq 0 && test $$serial -eq 0 && test $$typed -eq 0
	$(BIN)/python -m benchmarks.run --quick --at-rest 40 --output $${TMPDIR:-/tmp}/peer-review-bench-smoke

bench: install ## the benchmark (QUICK=1 for a smoke run, BENCH_ARGS for options); results in benchmarks/results/
	$(BIN)/python -m benchmarks.run $(if $(QUICK),--quick,) $(BENCH_ARGS)

deploy-check: install ## static checks of deploy/: image, compose, helm, k8s, dashboard, alerts
	$(BIN)/pytest tests/deploy

image: ## build the container image (needs Docker with BuildKit; not available on the CI machine)
	docker build -f deploy/Dockerfile -t peer-review:0.1.0 .

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
