# The one entry point for people and CI. Everything is set up on demand:
# the virtualenv (.venv), Kafka's jars (~/.m2, ~/.cache/cdrflow) and ClickHouse (apt).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test unit integration lint typecheck services services-stop services-status bench clean

demo: $(STAMP) services
	$(BIN)/cdrflow demo

test: $(STAMP) lint typecheck
	$(BIN)/pytest -p no:cacheprovider tests

unit: $(STAMP)
	$(BIN)/pytest -m "not integration" tests

integration: $(STAMP)
	$(BIN)/pytest -m integration tests

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

services: $(STAMP)
	$(BIN)/python -m infra start

services-stop: $(STAMP)
	$(BIN)/python -m infra stop

services-status: $(STAMP)
	$(BIN)/python -m infra status

bench: $(STAMP)
	$(BIN)/python -m bench

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (cdrflow needs Python 3.11+)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info
