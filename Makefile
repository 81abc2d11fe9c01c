# The serverless blog: `make dev` runs everything locally, `make test` runs the tests.
# Both set up .venv first (Python 3.11+), so a fresh clone needs nothing else.

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQS  := requirements-dev.txt shared/pyproject.toml $(wildcard */requirements.txt)

# The newest Python 3.11+ on PATH (override with `make PYTHON=/path/to/python3.12 ...`).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)

.PHONY: dev test lint package migrate clean venv bench

venv: $(STAMP)

$(STAMP): $(REQS)
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed on PATH" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'pip>=24,<26.3'  # chalice supports pip below 26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt -e 'shared[migrations]'
	@touch $@

dev: $(STAMP)
	$(PY) -m devtools.dev

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

package: $(STAMP)
	$(PY) -m devtools.package

migrate: $(STAMP)
	$(PY) -m devtools.migrate

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache */vendor tests/artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo "kept .devdb/ (your local database); remove it by hand to start from nothing"

bench: $(STAMP)
	$(PY) -m devtools.bench
