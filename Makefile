# SalesFlow developer commands. On a fresh machine: `make run` (demo at http://127.0.0.1:8000) and `make test`.
# Everything installs itself on first use: .venv (Python 3.11) from requirements-dev.txt, node_modules from
# package-lock.json. DATABASE_URL / REDIS_URL / EMAIL_URL from the environment are honoured (see README).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# pytest-xdist, one worker per core; tests that must share a worker carry @pytest.mark.xdist_group("name").
# `make test PYTEST_ARGS=` runs everything in one process.
PYTEST_ARGS ?= -n auto --dist loadgroup
HOST ?= 127.0.0.1
PORT ?= 8000
# Translation folders in .venv and node_modules are not ours.
I18N_IGNORE := --ignore=.venv --ignore=node_modules --ignore=staticfiles

# Exits 0 when the database already has data seed_demo would refuse to mix with (accounts or demo users), 3 if empty.
export SEEDED_CHECK := import sys; from accounts.models import Account, User; \
  sys.exit(0 if Account.objects.exists() or User.objects.filter(username__in=["director", "manager1", "rep1"]).exists() else 3)

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: help install run test lint format bench bench-analytics messages worker beat clean distclean

help:  ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install: $(PY_STAMP) $(NODE_STAMP)  ## Create .venv and node_modules if missing or out of date

$(PY_STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: install  ## Migrate a local SQLite DB, load the demo company once, serve on http://127.0.0.1:8000
	@export DEBUG=1; \
	$(MANAGE) migrate --noinput; \
	status=0; $(MANAGE) shell --verbosity 0 -c "$$SEEDED_CHECK" || status=$$?; \
	case $$status in \
	  0) echo "The database already has accounts or demo users; not seeding again." ;; \
	  3) echo "Loading the demo company (seed_demo)..."; $(MANAGE) seed_demo ;; \
	  *) echo "Could not read the database (exit $$status)" >&2; exit $$status ;; \
	esac; \
	echo; \
	echo "  SalesFlow: http://$(HOST):$(PORT)/   admin: http://$(HOST):$(PORT)/admin/"; \
	echo "  Log in as director, manager1 or rep1 (manager2, rep2, ... too); password: salesflow (director can use /admin/)"; \
	echo; \
	exec $(MANAGE) runserver $(HOST):$(PORT)

test: install  ## Lint, then the whole test suite (uses DATABASE_URL / REDIS_URL when set)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install  ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install  ## Time seed_demo, the home page and the nightly jobs on the database server (throwaway database)
	$(MANAGE) collectstatic --noinput --verbosity 0  # pages are timed as served without DEBUG, from the manifest
	$(PY) scripts/bench.py

# Fails when a nightly job takes more than twice the plain read of its input rows. Meant for a database already
# loaded with `manage.py seed_demo --scale 10`; the jobs replace their snapshots there.
bench-analytics: install  ## Time each nightly job against a plain read of its input on the configured (seeded) database
	$(PY) scripts/bench_analytics.py --selectors

messages: install  ## Refresh locale/zh_Hans/LC_MESSAGES/django.po from the code, then compile django.mo
	$(MANAGE) makemessages -l zh_Hans $(I18N_IGNORE) --ignore=tests --ignore=scripts --no-obsolete
	$(MANAGE) compilemessages -l zh_Hans $(I18N_IGNORE)

worker: install  ## A Celery worker (needs REDIS_URL)
	@test -n "$${REDIS_URL:-}" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0); without it tasks run in-process." >&2; exit 2; }
	exec $(VENV)/bin/celery -A salesflow worker --loglevel=INFO

beat: install  ## Celery beat, the scheduler: run exactly one (needs REDIS_URL)
	@test -n "$${REDIS_URL:-}" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0); without it tasks run in-process." >&2; exit 2; }
	exec $(VENV)/bin/celery -A salesflow beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

clean:  ## Remove caches and collected static files (keeps .venv, node_modules and db.sqlite3)
	rm -rf staticfiles .pytest_cache .ruff_cache bench-results
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean  ## Also remove .venv, node_modules and the local SQLite database
	rm -rf $(VENV) node_modules db.sqlite3
