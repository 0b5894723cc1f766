# Two commands for a new machine: `make demo` and `make test`. Both create .venv if missing
# and install exactly what requirements.lock pins (hashes checked); `make test-latest` runs
# the suite against the newest versions pyproject.toml allows instead.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LATEST := .venv-latest

.PHONY: demo test test-latest lock lint typecheck layers pytest catalog calibration fit bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip, setuptools and wheel come from the lock too; arbiter itself is installed without
# dependencies (the lock has them) and without build isolation (the locked setuptools).
$(STAMP): pyproject.toml requirements.lock Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# The lock, rebuilt from pyproject.toml (needs uv: pip install uv).
lock:
	bash scripts/lock.sh

# The whole suite on the newest versions pyproject.toml allows, in a venv of its own.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev,ray]"
	$(LATEST)/bin/python -m pip list --format=freeze > $(LATEST)/versions.txt
	$(LATEST)/bin/pytest -q -p no:cacheprovider

demo: $(STAMP)
	$(BIN)/arbiter catalog summary
	$(BIN)/arbiter estimate examples/workloads.yaml --top 5
	$(BIN)/arbiter plan examples/fleet.yaml --html plan-report.html
	$(BIN)/arbiter plan examples/lab-fleet.yaml --html lab-plan-report.html
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
	$(BIN)/pytest -q -n auto --dist loadgroup

catalog: $(STAMP)
	$(BIN)/python scripts/build_catalog.py
	$(BIN)/python scripts/build_spot_table.py

calibration: $(STAMP)
	$(BIN)/python scripts/convert_calibration.py

fit: $(STAMP)
	$(BIN)/python scripts/fit_perf.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The long fuzz run: at least 10,000 mutated inputs per loader, 200 per solving command; a
# table of inputs, uncaught exceptions and hangs; failing inputs saved in .fuzz/.
fuzz: $(STAMP)
	$(BIN)/python -W ignore scripts/fuzz.py --inputs 10000 --cli-inputs 200 --timeout 60

clean:
	rm -rf $(VENV) $(LATEST) .mypy_cache .ruff_cache .pytest_cache
