# `make app` sets up and runs the page; `make test` sets up and runs every test.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: app test lint bench clean

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

test: $(VENV)/.dev
	./scripts/ensure-chromium
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(VENV)/.dev
	$(PY) benchmarks/engine_vs_script.py

clean:
	rm -rf $(VENV) .pytest_cache
