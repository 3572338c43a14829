# The two commands of the README: `make demo` and `make test`. Both install what they
# need into .venv (and the identity provider into .idp-venv) on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS ?= --disable-pip-version-check -q

.PHONY: demo test lint install clean stop chromium

$(VENV)/.installed: requirements.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11+ is required"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -r requirements.txt
	touch $@

.idp-venv/.installed: requirements-idp.txt
	test -x .idp-venv/bin/python || $(PYTHON) -m venv .idp-venv
	.idp-venv/bin/python -m pip install $(PIP_FLAGS) -r requirements-idp.txt
	touch $@

install: $(VENV)/.installed .idp-venv/.installed

# Browser tests drive Debian's Chromium (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests are skipped without it)"; fi; }

demo: install
	$(PY) scripts/demo.py

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: install chromium
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

# The embedded PostgreSQL (used when DATABASE_URL is unset) keeps running between
# commands so they share it; this stops it.
stop:
	test ! -x $(PY) || $(PY) -c 'from pathlib import Path; from storefront.embedded_db import embedded_stop; print("embedded PostgreSQL stopped" if embedded_stop(Path("var/pgdata")) else "embedded PostgreSQL was not running")'

clean: stop
	rm -rf $(VENV) .idp-venv staticfiles test-artifacts
