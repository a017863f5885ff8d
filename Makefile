# Two commands for a fresh clone: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= true

.PHONY: run setup envfile prepare install test test-reliability lint format serve clean bench

run: setup
	$(PY) manage.py runserver $(HOST):$(PORT)

# setup = the data steps plus a git-ignored .env (DEBUG on, a generated key) that every command
# typed in a plain shell reads (kb/envfile.py), with DATABASE_URL/REDIS_URL if set for setup.
# `make serve` runs the data steps only: no .env.
setup: envfile prepare
	@$(PY) manage.py check
	@echo "setup: done. \`make run\` serves http://$(HOST):$(PORT)/"

# System checks run once, at the end of setup (`check` above, or `check --deploy` in serve):
# before the index is built they would only warn about the missing index the last step builds.
prepare: install
	@echo "setup 1/5: database migrations"
	@$(PY) manage.py migrate --noinput --skip-checks
	@echo "setup 2/5: cache table"
	@$(PY) manage.py createcachetable
	@echo "setup 3/5: rules from the registry (incidents/rules/)"
	@$(PY) manage.py sync_rules --skip-checks
	@echo "setup 4/5: stories (incidents/data/stories/)"
	@$(PY) manage.py load_stories --skip-checks
	@echo "setup 5/5: search index"
	@$(PY) manage.py rebuild_search_index --skip-checks

envfile: install
	@$(PY) -m kb.envfile update .env

install: $(STAMP)

$(STAMP): pyproject.toml
	@echo "setup: creating $(VENV) and installing the dependencies (a minute or two the first time)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DEBUG=false KB_TESTING=true $(PY) manage.py makemigrations --check --dry-run
	DEBUG=false KB_TESTING=true $(PY) -m pytest -q -m "not reliability" $(PYTEST_ARGS)

test-reliability: install
	DEBUG=false KB_TESTING=true $(PY) -m pytest -q -m reliability tests/reliability $(PYTEST_ARGS)

# Production serving on this machine: gunicorn + whitenoise, DEBUG off (see README "Operations").
serve: prepare
	HOST=$(HOST) PORT=$(PORT) PY=$(PY) deploy/serve.sh

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix . && $(PY) -m ruff format .

clean:
	rm -rf var/search var/test* .pytest_cache
