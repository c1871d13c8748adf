# mfbench: `make bench` (set up + default suite) and `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP := $(PY) -m pip --disable-pip-version-check
BENCH_ARGS ?=

STAMP_NOW := $(shell date -u +%Y%m%d-%H%M%S)

.PHONY: install bench test benchmark gpu-results gpu-bundle site lint clean

install: $(STAMP)

# LIBMF's C++ (the libmf 0.9.2 sdist) with its AVX kernels on x86-64, as LIBMF's own Makefile
# builds it; --no-cache-dir so that a wheel cached without them is not reused. Not with its
# OpenMP option: it only parallelises set-up loops (its SGD runs on std::threads), and a
# second OpenMP runtime beside PyTorch's in one process hung a test run here. Built from the
# source archive with patches/libmf-0.9.2-terminate.patch applied: upstream's mf_train trains
# a varying part of one more round after its last, or deadlocks there (the patch file says how;
# CI runs failed on both).
LIBMF_FLAGS := $(if $(filter x86_64,$(shell uname -m)),CFLAGS="-O3 -DUSEAVX -mavx",)
LIBMF_PATCH := patches/libmf-0.9.2-terminate.patch
LIBMF_SRC := $(VENV)/libmf-src

# pip 25.2 is the last pip whose --no-build-isolation still builds the LightFM 1.17 sdist
# (its setup.py breaks under PEP 517 hooks: "'dict' object has no attribute '__LIGHTFM_SETUP__'").
$(STAMP): pyproject.toml requirements.lock Makefile $(LIBMF_PATCH)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q "pip==25.2" "setuptools==84.2.1" "wheel==0.48.0"
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-build-isolation "lightfm==1.17"
	rm -rf $(LIBMF_SRC) && mkdir -p $(LIBMF_SRC)
	$(PIP) download -q --no-deps --no-binary :all: --dest $(LIBMF_SRC) "libmf==0.9.2"
	tar -xzf $(LIBMF_SRC)/libmf-0.9.2.tar.gz -C $(LIBMF_SRC)
	patch -s -p1 -d $(LIBMF_SRC)/libmf-0.9.2 < $(LIBMF_PATCH)
	$(LIBMF_FLAGS) $(PIP) install -q --no-cache-dir --no-build-isolation --force-reinstall \
		--no-deps $(LIBMF_SRC)/libmf-0.9.2
	$(PIP) install -q --no-build-isolation --no-deps -e .
	touch $(STAMP)

# The default suite (suite/configs/default.toml) into results/runs/<UTC stamp>/.
bench: install
	$(VENV)/bin/mfbench run $(BENCH_ARGS)

# Unit tests (the pytest-benchmark suite runs once as tests, on the seed matrix only: --benchmark-disable in
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

# On a machine with an NVIDIA GPU: the default suite (its CUDA rows next to the CPU ones) and
# the scaling-gpu grid into results/gpu/. Without a GPU it stops at once, in one line.
# make install's torch==2.13.0 from PyPI is the CUDA build on Linux; implicit's PyPI wheel is
# CPU-only (its CUDA rows are recorded as skipped, with the reason).
GPU_RESULTS := results/gpu
gpu-results:
	@command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 || \
		{ echo "make gpu-results: no NVIDIA GPU here (nvidia-smi finds none); run it on a machine with CUDA" >&2; exit 2; }
	$(MAKE) install
	@$(PY) -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else \
		f'make gpu-results: torch {torch.__version__} sees no CUDA device; install a CUDA build of torch')"
	$(VENV)/bin/mfbench run --config default --out $(GPU_RESULTS)/default
	$(VENV)/bin/mfbench run --config scaling-gpu --out $(GPU_RESULTS)/scaling

# What a GPU lease (no network; its own Python 3.12 and CUDA torch) lacks, gathered here where
# PyPI is reachable, for scripts/gpu-run (README: "GPU results from one device lease"): the
# mfbench wheel, implicit's and tqdm's cp312 wheels (versions from requirements.lock), ML-100K
# from the data cache (never committed: gpu-bundle/ is ignored), and the commit it was built
# from. Fails in one line when the bundle and the working tree a device call carries pass 64 MiB.
GPU_BUNDLE := gpu-bundle
GPU_WHEEL_TAGS := --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64
GPU_CARRY_LIMIT_MIB := 64
gpu-bundle: install
	rm -rf $(GPU_BUNDLE) build
	mkdir -p $(GPU_BUNDLE)/data/raw
	$(PIP) wheel -q --no-deps --no-build-isolation --wheel-dir $(GPU_BUNDLE) .
	rm -rf build
	$(PIP) download -q $(GPU_WHEEL_TAGS) --no-deps --dest $(GPU_BUNDLE) \
		$$(grep -E '^(implicit|tqdm)==' requirements.lock)
	$(VENV)/bin/mfbench data fetch ml-100k
	cp -R "$$($(PY) -c 'from suite.data.cache import cache_dir; print(cache_dir())')/raw/ml-100k" \
		$(GPU_BUNDLE)/data/raw/
	git rev-parse HEAD > $(GPU_BUNDLE)/COMMIT
	git status --porcelain --untracked-files=no > $(GPU_BUNDLE)/STATUS
	@tree=$$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null \
		| awk '{ s += $$1 } END { print s + 0 }'); \
	bundle=$$(du -sb $(GPU_BUNDLE) | cut -f1); \
	mib() { awk -v b=$$1 'BEGIN { printf "%.1f", b / 1048576 }'; }; \
	if [ $$((tree + bundle)) -gt $$(($(GPU_CARRY_LIMIT_MIB) * 1048576)) ]; then \
		echo "make gpu-bundle: $(GPU_BUNDLE)/ ($$(mib $$bundle) MiB) and the working tree" \
			"($$(mib $$tree) MiB) pass the $(GPU_CARRY_LIMIT_MIB) MiB a device call carries" >&2; \
		exit 2; \
	fi; \
	echo "$(GPU_BUNDLE)/: $$(mib $$bundle) MiB: $$(cd $(GPU_BUNDLE) && ls *.whl | paste -sd ' '), ML-100K;" \
		"with the working tree $$(mib $$((tree + bundle))) MiB of the $(GPU_CARRY_LIMIT_MIB) MiB" \
		"a device call carries"

# The results site (`mfbench publish`): one page per committed folder under results/, built
# from their data into site/ (ignored; never edited by hand). Open site/index.html: it works
# from file:// with no network.
site: install
	$(VENV)/bin/mfbench publish --out site

lint: install
	$(VENV)/bin/ruff check suite baselines tests
	$(VENV)/bin/ruff format --check suite baselines tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
