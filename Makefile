# mfbench: `make bench` (set up + default suite) and `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP := $(PY) -m pip --disable-pip-version-check
BENCH_ARGS ?=

STAMP_NOW := $(shell date -u +%Y%m%d-%H%M%S)

.PHONY: install bench test benchmark lint clean

install: $(STAMP)

# pip 25.2 is the last pip whose --no-build-isolation still builds the LightFM 1.17 sdist
# (its setup.py breaks under PEP 517 hooks: "'dict' object has no attribute '__LIGHTFM_SETUP__'").
$(STAMP): pyproject.toml requirements.lock Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q "pip==25.2" "setuptools==84.2.1" "wheel==0.48.0"
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-build-isolation "lightfm==1.17"
	$(PIP) install -q --no-build-isolation --no-deps -e .
	touch $(STAMP)

# The default suite (suite/configs/default.toml) into results/runs/<UTC stamp>/.
bench: install
	$(VENV)/bin/mfbench run $(BENCH_ARGS)

# Unit tests (the pytest-benchmark suite runs once as tests: --benchmark-disable in
# pyproject.toml), then the regression gate against results/ci.
test: install
	$(PY) -m pytest -q
	$(VENV)/bin/mfbench check

# The pytest-benchmark suite for real: JSON and a REPORT.md under results/runs/.
benchmark: install
	mkdir -p results/runs
	$(PY) -m pytest -q tests/benchmarks --benchmark-enable --benchmark-only \
		--benchmark-json=results/runs/benchmark-$(STAMP_NOW).json
	$(VENV)/bin/mfbench report --pytest-benchmark results/runs/benchmark-$(STAMP_NOW).json

lint: install
	$(VENV)/bin/ruff check suite baselines tests
	$(VENV)/bin/ruff format --check suite baselines tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
