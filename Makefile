# The two commands of the README:
#   make run    install what badger needs, load the demo data, serve on http://127.0.0.1:5000/
#   make test   install what the tests need, run the linters and the whole test suite
# Everything installs into .venv/ from PyPI, pinned by requirements/constraints.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# pytest-xdist workers for `make test` (auto: one per core; 0 runs in one process)
PYTEST_WORKERS ?= auto
# Public ids in issued badges use this origin; it follows HOST/PORT unless set.
BADGER_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test lint pytest coverage install install-test bench screenshots lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

run: install
	BADGER_BASE_URL=$(BADGER_BASE_URL) $(BIN)/badger demo
	BADGER_BASE_URL=$(BADGER_BASE_URL) $(BIN)/badger serve --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check badger tests bench scripts
	$(BIN)/ruff format --check badger tests bench scripts
	$(BIN)/lint-imports

pytest: install-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test: lint pytest

# The suite with branch coverage of badger/ (slower: the tracer costs about 60%).
coverage: install-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --cov=badger --cov-branch --cov-report=term:skip-covered $(PYTEST_ARGS)

bench: install-test
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# PNGs of the main pages into docs/screenshots/ (needs Debian's chromium).
screenshots: install-test
	$(BIN)/python scripts/screenshots.py

# Refresh the pinned versions after changing dependencies in pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 --no-header -q -o requirements/constraints.txt

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .coverage
