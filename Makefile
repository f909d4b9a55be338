# Two commands: `make run` (the console on embedded defaults, with a demo fleet) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install system-deps services lint typecheck checks pytest bench clean openapi

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

system-deps:
	scripts/install-system-deps.sh

services:
	scripts/ensure-services.sh

run: install system-deps
	$(BIN)/python manage.py rundemo --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

checks: install services
	$(BIN)/python manage.py check
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres $(BIN)/python manage.py makemigrations --check --dry-run

pytest: install system-deps services
	$(BIN)/pytest -n 2 --dist loadfile

test: lint typecheck checks pytest

bench: install system-deps services
	$(BIN)/python bench/render.py
	$(BIN)/python bench/reconcile.py
	$(BIN)/python bench/dependencies.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/fleet_overview.py
	$(BIN)/python bench/console_pages.py
	$(BIN)/python bench/tracing.py
	$(BIN)/python bench/watch.py

# The published OpenAPI document (tests/api/test_schema_contract.py fails when it differs from the code's). The
# database is not contacted; its vendor (PostgreSQL, as in production) sets the integer bounds of the schema.
openapi: install
	DATABASE_URL=postgres://127.0.0.1:5432/schema-only $(BIN)/python manage.py spectacular --fail-on-warn --validate --file docs/openapi.yaml

clean:
	rm -rf var artifacts
