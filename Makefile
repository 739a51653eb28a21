# Two commands for a fresh machine: `make run` serves the site, `make test` tests it.
.DEFAULT_GOAL := help
.PHONY: help run test lint format check audit screenshots bench bench-reports

VENV := .venv
BIN := $(VENV)/bin
# The interpreter .python-version names (through pyenv), else python3.13 or python3.12.
PYTHON_FOR_VENV = $(shell \
	for candidate in "$$(pyenv which python 2>/dev/null)" python3.13 python3.12; do \
		[ -n "$$candidate" ] || continue; \
		command -v "$$candidate" >/dev/null 2>&1 || continue; \
		"$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
			&& { command -v "$$candidate"; break; }; \
	done)

help:
	@echo "make run     serve the site at http://127.0.0.1:8000 with starter content"
	@echo "make test    run the test suite"
	@echo "make lint    check the code with ruff"
	@echo "make format  format the code with ruff"
	@echo "make audit   HTML checker and Lighthouse on the site built as in production"
	@echo "make screenshots  regenerate docs/screenshots/ for the README"
	@echo "make bench   measure the site as in production with wrk (README, Performance)"
	@echo "make bench-reports  time the admin's reports and front page at 10,000 requests"

$(BIN)/python:
	@if [ -z "$(PYTHON_FOR_VENV)" ]; then \
		echo "This project needs Python 3.13 (3.12 at least). Install it, e.g. 'pyenv install 3.13'," >&2; \
		echo "or put python3.13 on the PATH, then run make again." >&2; \
		exit 1; \
	fi
	"$(PYTHON_FOR_VENV)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps record which requirements are installed, so a second run reinstalls nothing.
$(VENV)/.requirements: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.requirements-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.requirements

# axe-core (for the browser tests), the Nu Html Checker and Lighthouse, from npm.
# --ignore-scripts: vnu-jar's install script would download a Java; the
# machine's Java 17 runs it.
AUDIT_TOOLS := audit/node_modules/.package-lock.json
$(AUDIT_TOOLS): audit/package.json audit/package-lock.json
	npm ci --prefix audit --ignore-scripts --no-audit --no-fund
# Without npm the tests still run; the axe-core ones skip (outside CI) and say why.
TEST_TOOLS := $(if $(shell command -v npm 2>/dev/null),$(AUDIT_TOOLS))

run: export DJANGO_DEBUG = 1
run: $(VENV)/.requirements
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_starter_content
	@echo
	@echo "To log into the admin at http://127.0.0.1:8000/admin/, first create a staff login:"
	@echo "    DJANGO_DEBUG=1 $(BIN)/python manage.py createsuperuser"
	@echo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(VENV)/.requirements-dev $(TEST_TOOLS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.requirements-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.requirements-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

audit: $(VENV)/.requirements-dev $(AUDIT_TOOLS)
	$(BIN)/python audit/run_audit.py

screenshots: $(VENV)/.requirements-dev
	$(BIN)/python audit/screenshots.py

bench: $(VENV)/.requirements
	$(BIN)/python bench/run.py

bench-reports: $(VENV)/.requirements
	$(BIN)/python bench/reports.py
