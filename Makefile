# `make app` sets up and runs the page; `make test` sets up and runs every test (what CI runs).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The fast tier: pure and engine-unit tests, no slow experiments, no web lab, no browser.
FAST := not (timing or slow or web or browser or load)

.PHONY: app test check lint types pythons bench clean

$(VENV)/.app: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.app requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

app: $(VENV)/.app
	$(PY) -m streamlit run streamlit_app.py

# Everything: lint, types, the dependency contract, then every tier of tests (browser and load included),
# each tier timed against its budget (scripts/test-tiers; the README's "Tests and their time budget").
test: $(VENV)/.dev pythons
	./scripts/ensure-chromium
	./scripts/ensure-postgresql
	@start=$$(date +%s); $(MAKE) --no-print-directory lint; code=$$?; \
	  echo "--- lint, types, contracts: $$(( $$(date +%s) - start )) s (budget 30 s) ---"; exit $$code
	PY=$(PY) ./scripts/test-tiers

# The inner loop: the fast tier, under a minute.
check: $(VENV)/.dev
	$(PY) -m pytest -q -m "$(FAST)"

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

types: $(VENV)/.dev
	$(PY) -m mypy

# The interpreters the tests run under: a free-threaded CPython built once from Debian's source.
pythons:
	./scripts/build-free-threaded-python >/dev/null

# Every benchmark in benchmarks/ (quick sizes), one JSON of all their figures with each one's steadiness.
bench: $(VENV)/.dev
	$(PY) benchmarks/run_all.py --out bench.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .import_linter_cache
