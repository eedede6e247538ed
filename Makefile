# Partner Center: `make run` serves the console, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export DEBUG ?= true

.PHONY: setup run test bench migrate clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Development defaults for manage.py in this checkout (never used in production: see README).
.env:
	printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" > $@

setup: $(VENV)/.installed .env

migrate: setup
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  Partner Center: http://127.0.0.1:8000   demo login: demo / demo-password"
	@echo "  (viewer: demo-viewer / viewer-password; second reseller: other / other-password)"
	@echo "  Customer portal: http://127.0.0.1:8000/portal/   customer@demo-client.example / portal-demo-2026"
	@echo "  (one pending application and one unused invitation in My Customers › Pending customers / Invitations)"
	@echo ""
	DEMO_USAGE_SIMULATOR=true SMS_BACKEND=file bin/run-dev

# Lint (ruff.toml), import contracts (.importlinter), then the tests in parallel: one pytest-xdist
# process per CPU (TEST_PROCESSES=0 runs them in this process, e.g. with pdb).
TEST_PROCESSES ?= auto
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	PARTNERCENTER_TESTING=1 $(PY) -m pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var/ .pytest_cache artifacts/
