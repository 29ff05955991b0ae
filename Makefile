# Two commands a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
REDIS_URL ?= redis://127.0.0.1:6379/0
PORT ?= 8000
REPLAY_PORT ?= 8900
UPSTREAM ?= live
export REDIS_URL PORT REPLAY_PORT

ifeq ($(UPSTREAM),replay)
  export DEXSCREENER_BASE_URL := http://127.0.0.1:$(REPLAY_PORT)/dexscreener
  export JUPITER_BASE_URL := http://127.0.0.1:$(REPLAY_PORT)/jupiter
  export GECKOTERMINAL_BASE_URL := http://127.0.0.1:$(REPLAY_PORT)/geckoterminal
  PROCESSES := web worker beat upstream
else
  PROCESSES := web worker beat
endif

.PHONY: run test bench bench-stack bench-ws-stack soak lint format redis browser clean

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# Redis must answer at REDIS_URL; a local one is started from redis-server when it is on the PATH.
redis: $(VENV)/.installed
	@$(PY) -m tokens.infra.redis_check "$(REDIS_URL)"

# The page tests drive Debian's chromium: installed here when we are root on Debian, otherwise the
# exact command is printed (the tests then skip, or fail with CI=true).
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests (apt-get install chromium)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install chromium; the browser tests need it: sudo apt-get install chromium"; \
	  else \
	    echo "The browser tests need Debian's chromium at $(CHROMIUM): sudo apt-get install chromium"; \
	  fi; \
	fi

# Every process of the stack writes its Prometheus metrics here; /metrics aggregates them. It is
# emptied before each start (README "Operations").
PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/run/prometheus

run: $(VENV)/.installed redis
	@mkdir -p run
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@mkdir -p "$(PROMETHEUS_MULTIPROC_DIR)" && rm -f "$(PROMETHEUS_MULTIPROC_DIR)"/*.db
	@echo "Serving http://127.0.0.1:$(PORT)/ (upstream: $(UPSTREAM)); Ctrl-C stops everything."
	PROMETHEUS_MULTIPROC_DIR="$(PROMETHEUS_MULTIPROC_DIR)" $(VENV)/bin/honcho start -f Procfile $(PROCESSES)

# The `database` tests (models, queries, candle writes, retention) run twice: on SQLite with the rest
# of the suite, then on PostgreSQL at TEST_POSTGRES_URL (Django creates its own test database
# there). An unreachable PostgreSQL is started when it can be, else the fix is printed and that
# run skipped; with CI=true it fails the run.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
# Test files run in parallel (pytest-xdist, one Redis DB index per worker: tests/settings.py);
# PYTEST_WORKERS=0 runs them in this one process.
PYTEST_WORKERS ?= 3
XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)
test: $(VENV)/.installed-dev redis browser
	$(VENV)/bin/pytest $(XDIST) $(PYTEST_ARGS)
	@if $(PY) -m tokens.infra.postgres_check "$(TEST_POSTGRES_URL)"; then \
	  echo "PostgreSQL run of the database tests ($(TEST_POSTGRES_URL))"; \
	  DATABASE_URL="$(TEST_POSTGRES_URL)" $(VENV)/bin/pytest $(XDIST) -m database $(PYTEST_ARGS); \
	elif [ "$${CI:-}" = true ]; then \
	  echo "CI=true: PostgreSQL is required for the database tests" >&2; exit 1; \
	else \
	  echo "SKIPPED the PostgreSQL run of the database tests (see above for what to install)"; \
	fi

bench: $(VENV)/.installed-dev redis
	$(PY) bench/run_all.py $(BENCH_ARGS)

# The REST benchmark against the whole stack as `make run` starts it (bench/stack.py), under uvicorn
# and daphne; BENCH_ARGS="--duration 10 --servers uvicorn" narrows it.
bench-stack: $(VENV)/.installed-dev redis
	$(PY) bench/bench_stack.py $(BENCH_ARGS)

# WebSocket against the whole stack: N clients subscribing to `all` at once while refreshes land
# (seq anomalies, fan-out spread, subscribe time, bytes per client); BENCH_ARGS="--clients 1000".
bench-ws-stack: $(VENV)/.installed-dev redis
	$(PY) bench/bench_ws_stack.py $(BENCH_ARGS)

# Soak: the whole stack (2 web processes, a worker, beat, the replay upstream with moving prices and
# periodic faults) under 500 WebSocket clients and 200 REST req/s; SOAK_ARGS="--minutes 3" shortens it.
soak: $(VENV)/.installed-dev redis
	$(PY) bench/soak.py $(SOAK_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) run staticfiles .pytest_cache
