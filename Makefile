# Two commands for a new machine: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck layers pytest catalog calibration fit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/arbiter catalog summary
	$(BIN)/arbiter estimate examples/workloads.yaml --top 5
	$(BIN)/arbiter plan examples/fleet.yaml --html plan-report.html
	$(BIN)/arbiter risk examples/fleet.yaml --scenarios examples/scenarios.yaml --recourse --html risk-report.html
	$(BIN)/arbiter procure examples/procure.yaml --html procure-report.html
	$(BIN)/arbiter deal examples/deals/trainium-10b.yaml --html deal-report.html

test: $(STAMP) lint typecheck layers pytest

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/ruff check src tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -q

catalog: $(STAMP)
	$(BIN)/python scripts/build_catalog.py

calibration: $(STAMP)
	$(BIN)/python scripts/convert_calibration.py

fit: $(STAMP)
	$(BIN)/python scripts/fit_perf.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
