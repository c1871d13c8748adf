# mfbench: `make bench` (set up + default suite) and `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP := $(PY) -m pip --disable-pip-version-check
BENCH_ARGS ?=

.PHONY: install bench test lint clean

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

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check suite baselines tests
	$(VENV)/bin/ruff format --check suite baselines tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
