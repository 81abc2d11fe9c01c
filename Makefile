# The serverless blog: `make dev` runs everything locally, `make test` runs the tests.
# Both set up .venv first (Python 3.11+), so a fresh clone needs nothing else.

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The newest Python 3.11+ on PATH (override with `make PYTHON=/path/to/python3.12 ...`).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)

.PHONY: dev test test-fast test-stack lint lock package deploy destroy deploy-local migrate clean venv bench mail-redrive mail-failed rotate-keys

venv: $(STAMP)

# Exactly the pinned set of requirements-dev.txt (generated from uv.lock by `make lock`),
# every file checked against its hash; the shared package is put on the path as it is.
$(STAMP): requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed on PATH" >&2; exit 1; }
	@echo "[1/3] .venv: a virtual environment for $$($(PYTHON) --version)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "[2/3] .venv: installing the $$(grep -c '^[a-z]' requirements-dev.txt) pinned packages of requirements-dev.txt (about a minute the first time)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-dev.txt
	@echo "[3/3] .venv: shared/ (blog_shared) on the path"
	@$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "blog_shared.pth").write_text(str(pathlib.Path("shared").resolve()) + "\n")'
	@touch $@

dev: $(STAMP)
	$(PY) -m devtools.dev

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The unit tier: no database, no emulator, no servers (under 30 s).
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not http and not browser and not packaging" $(PYTEST_ARGS)

# The packaged stack run as build/template.yaml wires it (also part of `make test`).
test-stack: $(STAMP)
	$(PY) -m pytest -m stack $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m devtools.lint

lock: $(STAMP)
	$(PY) -m devtools.lock $(LOCK_ARGS)

package: $(STAMP)
	$(PY) -m devtools.package

# The whole platform on AWS (credentials as for the AWS CLI): `make deploy STAGE=prod
# PARAMS="MailIdentity=example.com AlarmEmail=ops@example.com"`; `make destroy STAGE=prod`.
STAGE  ?= prod
PARAMS ?=
deploy: package
	$(PY) -m devtools.deploy deploy --stage $(STAGE) $(PARAMS)

destroy: $(STAMP)
	$(PY) -m devtools.deploy destroy --stage $(STAGE)

# The same template on LocalStack (needs Docker and LOCALSTACK_AUTH_TOKEN; see the README),
# in DatabaseMode=external on the compose file's PostgreSQL.
deploy-local: package
	docker compose -f localstack-compose.yml up -d --wait
	AWS_ENDPOINT_URL=http://127.0.0.1:4566 $(PY) -m devtools.deploy deploy-local $(PARAMS)

migrate: $(STAMP)
	$(PY) -m devtools.migrate

# Mail for operators (the local system by default; `STAGE=prod` for a deployed stack):
# move the dead-letter queue back after an outage; list (RETRY=1: queue again) mail SES refused.
STAGE_OPTION = $(if $(filter command line environment,$(origin STAGE)),--stage $(STAGE))
mail-redrive: $(STAMP)
	$(PY) -m devtools.mailops redrive $(STAGE_OPTION)

mail-failed: $(STAMP)
	$(PY) -m devtools.mailops failed $(STAGE_OPTION) $(if $(RETRY),--retry)

# A new access-token signing key; the previous ones stay valid until their tokens expire, so
# nobody is logged out (the local system by default; `STAGE=prod` for a deployed stack;
# `REVOKE=1` after a leak ends every session).
rotate-keys: $(STAMP)
	$(PY) -m devtools.rotate_keys $(STAGE_OPTION) $(if $(REVOKE),--revoke) $(if $(SECRET),--secret $(SECRET))

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .mypy_cache */vendor tests/artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo "kept .devdb/ (your local database); remove it by hand to start from nothing"

bench: $(STAMP)
	$(PY) -m devtools.bench
