# Two commands for a fresh clone: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= true

.PHONY: run setup install test test-reliability lint format serve clean bench

run: setup
	$(PY) manage.py runserver $(HOST):$(PORT)

setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py sync_rules
	$(PY) manage.py load_stories
	$(PY) manage.py rebuild_search_index

install: $(STAMP)

$(STAMP): pyproject.toml
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
serve: setup
	HOST=$(HOST) PORT=$(PORT) PY=$(PY) deploy/serve.sh

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix . && $(PY) -m ruff format .

clean:
	rm -rf var/search var/test* .pytest_cache
