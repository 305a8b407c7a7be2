# repro — two doors: `make demo` and `make test`. Both set up .venv on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
REPRO := $(VENV)/bin/repro
STAMP := $(VENV)/.installed
RESULTS ?= results
SITE ?= reports/site
PYTEST_ARGS ?=
# The suite runs in one pytest-xdist worker: a test that kills its process (a native crash in a
# library, SIGSEGV) is reported as failed, a new worker takes the remaining tests, and the run fails
# at the end instead of dying unseen half-way (tests/test_isolation.py shows it).
PYTEST_ISOLATION := -n 1 --max-worker-restart=20

.PHONY: demo test test-fast bench gpu-check leaderboard reproduce-cifar reproduce-imagenet image clean distclean install

install: $(STAMP)

# Re-installs only when pyproject.toml changes; a second `make demo` goes straight to work.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet "pip>=24"
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@rm -rf $(RESULTS)/digits-demo
	$(REPRO) digits --runs 3 --results $(RESULTS)/digits-demo
	$(REPRO) report --results $(RESULTS)/digits-demo --out $(SITE)

# The import-linter layers first (docs/architecture.md), then the suite. pytest exits 5 when it
# collected nothing: that is a failure here, not a pass.
test: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache
	@$(VENV)/bin/pytest $(PYTEST_ISOLATION) $(PYTEST_ARGS); rc=$$?; \
	 if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-fast: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ISOLATION) -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(VENV)/bin/pytest benchmarks --benchmark-only --benchmark-columns=min,mean,max,rounds $(PYTEST_ARGS)

# The GPU proof in one prepared command (repro.bench): sections a–f on the visible GPUs in at most
# 8 minutes, a table, and benchmarks/gpu/<gpu-model>-<date>.json. Without a GPU it says so and
# exits 5; `repro bench gpu --dry-run` (run by `make test`) does the same work on the CPU.
gpu-check: $(STAMP)
	$(REPRO) bench gpu --out benchmarks/gpu

leaderboard: $(STAMP)
	$(REPRO) report --results $(RESULTS) --out $(SITE)

# -- the pinned image (docker/Dockerfile) and the GPU reproductions in it ---------------------------
# Each target checks for docker (and GPUs) with the system Python first: when something is missing it
# says what and how to run on the CPU instead, exits non-zero, and builds or writes nothing.
IMAGE ?= repro:latest
RUNS ?= 5
CIFAR_DATA ?= data/cifar10
IMAGENET_DATA ?= data/imagenet

image:
	@$(PYTHON) -m repro.commands.preflight --docker --target image
	@$(MAKE) --no-print-directory install
	$(REPRO) reproduce --image $(IMAGE) --rebuild image

# The fast.ai 2018 CIFAR-10 recipe and the modern one, RUNS seeds each, all GPUs, then the leaderboard.
reproduce-cifar:
	@$(PYTHON) -m repro.commands.preflight --docker --gpu --target reproduce-cifar
	@$(MAKE) --no-print-directory install
	$(REPRO) reproduce --image $(IMAGE) cifar --data $(CIFAR_DATA) --results $(RESULTS) --runs $(RUNS)
	$(REPRO) report --results $(RESULTS) --out $(SITE)

reproduce-imagenet:
	@$(PYTHON) -m repro.commands.preflight --docker --gpu --data $(IMAGENET_DATA) --target reproduce-imagenet
	@$(MAKE) --no-print-directory install
	$(REPRO) reproduce --image $(IMAGE) imagenet --data $(IMAGENET_DATA) --results $(RESULTS) --runs $(RUNS)
	$(REPRO) report --results $(RESULTS) --out $(SITE)

clean:
	rm -rf $(RESULTS) $(SITE) .pytest_cache .benchmarks build *.egg-info

distclean: clean
	rm -rf $(VENV)
