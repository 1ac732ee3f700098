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

.PHONY: help install browser run test lint format bench bench-analytics loadtest messages worker beat backup restore clean distclean

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

# Browser tests drive Debian's Chromium; Playwright never downloads a browser. Root (as in CI) installs it with apt.
browser:  ## Install the system's Chromium for the browser tests (apt-get, needs root)
	@if command -v chromium >/dev/null 2>&1; then echo "Chromium: $$(chromium --version)"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null && chromium --version; \
	else echo "Install Chromium for the browser tests: sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; fi

run: install  ## Migrate a local SQLite DB, load the demo company once, serve on http://127.0.0.1:8000
	@export DEBUG=1; \
	$(MANAGE) migrate --noinput; \
	status=0; $(MANAGE) shell --verbosity 0 -c "$$SEEDED_CHECK" || status=$$?; \
	case $$status in \
	  0) echo "The database already has accounts or demo users; not seeding again." ;; \
	  3) echo "Loading the demo company (seed_demo) and computing its analytics..."; \
	     $(MANAGE) seed_demo && $(MANAGE) compute_analytics ;; \
	  *) echo "Could not read the database (exit $$status)" >&2; exit $$status ;; \
	esac; \
	echo; \
	echo "  SalesFlow: http://$(HOST):$(PORT)/   admin: http://$(HOST):$(PORT)/admin/"; \
	echo "  Log in as director, manager1 or rep1 (manager2, rep2, ... too); password: salesflow (director can use /admin/)"; \
	echo; \
	exec $(MANAGE) runserver $(HOST):$(PORT)

test: install browser  ## Lint, then the whole test suite (browser tests included) (uses DATABASE_URL / REDIS_URL when set)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install  ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Throwaway databases `<name>_bench_s<scale>` on the configured server (temporary files for SQLite), dropped at the
# end. BENCH_SCALES=1,10,50 adds scales, BENCH_RUNS the timed runs per page (median; default 5), BENCH_PAGES=search
# only the pages whose name contains it (e.g. the search at scale 50 without the whole table). JSON in bench-results/.
bench: install  ## Every page and endpoint as director, manager1, rep1 at seed scales 1 and 10: ms, queries, bytes; fails above issue 10's targets
	DEBUG=0 $(MANAGE) collectstatic --noinput --verbosity 0  # pages are timed as served in production, from the manifest
	$(PY) scripts/bench.py --json bench-results/bench.json

# Needs DATABASE_URL naming a database already loaded with `manage.py seed_demo --scale 10`; adds planned visits to it.
# LOADTEST_SECONDS (60), LOADTEST_USERS (20,50), LOADTEST_SINGLE_SECONDS (30), LOADTEST_WAIT (0.5-1.5 s think time).
loadtest: install  ## Locust on gunicorn (3 workers, 127.0.0.1): issue 10's mix and /login/ at 20 and 50 users; fails above the targets
	DEBUG=0 $(MANAGE) collectstatic --noinput --verbosity 0
	$(PY) scripts/loadtest.py

# Fails when a nightly job's first run (on an emptied snapshot) or repeat run takes more than twice a plain SQL read
# doing the same aggregation. Needs DATABASE_URL naming a PostgreSQL database loaded with `manage.py seed_demo` (e.g.
# --scale 10); the jobs replace their snapshots there. BENCH_ANALYTICS_RUNS sets the timed runs (median; default 5).
bench-analytics: install  ## Time each nightly job, first and repeat run, against a plain SQL read of the same aggregation (seeded PostgreSQL)
	$(PY) scripts/bench_analytics.py --selectors --runs $${BENCH_ANALYTICS_RUNS:-5}

messages: install  ## Refresh locale/zh_Hans/LC_MESSAGES/django.po from the code, then compile django.mo
	$(MANAGE) makemessages -l zh_Hans $(I18N_IGNORE) --ignore=tests --ignore=scripts --no-obsolete
	$(MANAGE) compilemessages -l zh_Hans $(I18N_IGNORE)

worker: install  ## A Celery worker (needs REDIS_URL)
	@test -n "$${REDIS_URL:-}" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0); without it tasks run in-process." >&2; exit 2; }
	exec $(VENV)/bin/celery -A salesflow worker --loglevel=INFO

beat: install  ## Celery beat, the scheduler: run exactly one (needs REDIS_URL)
	@test -n "$${REDIS_URL:-}" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0); without it tasks run in-process." >&2; exit 2; }
	exec $(VENV)/bin/celery -A salesflow beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

backup: install  ## Back up the configured database to backups/<name>-<UTC time>.dump (pg_dump -Fc; SQLite: a copy)
	$(PY) scripts/backup.py backup

# Refuses a database that already has tables unless FORCE=1 (then what the backup holds is dropped and recreated).
restore: install  ## Restore FILE=backups/... into the configured database (an empty one; FORCE=1 to replace)
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=backups/<file>.dump [FORCE=1]" >&2; exit 2; }
	$(PY) scripts/backup.py restore "$(FILE)" $(if $(filter 1,$(FORCE)),--force)

clean:  ## Remove caches and collected static files (keeps .venv, node_modules and db.sqlite3)
	rm -rf staticfiles .pytest_cache .ruff_cache bench-results
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean  ## Also remove .venv, node_modules and the local SQLite database
	rm -rf $(VENV) node_modules db.sqlite3
