# Two commands for a fresh machine (Python 3.11, pip, make):
#   make run    install and run the server on the example office (./data/queue.db)
#   make test   install everything (Chromium from Debian too, as root) and run the whole suite

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test check bench clean

$(VENV)/.run-installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -e '.[test]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(VENV)/bin/queue-server serve $(ARGS)

check: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy --strict queue_server/domain queue_server/wire.py

# Two workers on a 2-core machine: about 6 minutes instead of 10 (tests use their own ports and folders).
PYTEST_ARGS ?= -n 2

test: check
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_redis.sh
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.test-installed
	$(PY) tests/bench/run_all.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .hypothesis test-artifacts
