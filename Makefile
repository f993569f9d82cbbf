# Every target creates and uses .venv itself, so a fresh machine needs only python3 and make.
# The development and test tools install from a lock (.ci/constraints.txt, pip constraints):
# a new release of a test dependency cannot break a fresh clone. `make lock` refreshes it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOCK   := .ci/constraints.txt

.PHONY: demo test lint fixtures bench golden lock dist clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --constraint $(LOCK) --upgrade pip
	$(PY) -m pip install --quiet --constraint $(LOCK) -e '.[dev,mcp]'
	touch $(STAMP)

## demo: run the seed incident in an in-process moto server and diagnose it live
demo: $(STAMP)
	$(PY) -m fixtures.demo

## test: the whole test suite (unit, Stubber, recorded AWS histories, moto end to end)
test: $(STAMP)
	$(PY) -m pytest -q

## lint: ruff (lint + format check) and mypy on the package
lint: $(STAMP)
	$(VENV)/bin/ruff check sfn_trace tests fixtures benchmarks
	$(VENV)/bin/ruff format --check sfn_trace tests fixtures benchmarks
	$(VENV)/bin/mypy

## golden: regenerate tests/golden/ (every format of every line-ingest fixture); review the diff
golden: $(STAMP)
	$(PY) -m tests.make_golden

## bench: offline, live (paging proxy) and API-call benchmarks; writes benchmarks/RESULTS.md
bench: $(STAMP)
	$(PY) -m benchmarks.bench

## fixtures: re-record fixtures/line_ingest/*.history.json by executing the workflow in moto
fixtures: $(STAMP)
	$(PY) -m fixtures.make_fixtures

## lock: re-resolve .[dev,mcp] in a new virtual environment and pin every package in $(LOCK)
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip && \
	"$$tmp/venv/bin/python" -m pip install --quiet '.[dev,mcp]' && \
	{ echo "# Pins for make's .venv: every package of .[dev,mcp], resolved by 'make lock'."; \
	  echo "# Runtime dependencies stay ranges in pyproject.toml; this only fixes the dev set-up."; \
	  echo "# Python $$("$$tmp/venv/bin/python" -c 'import platform; print(platform.python_version())'), refreshed $$(date -u +%Y-%m-%d)."; \
	  "$$tmp/venv/bin/python" -m pip freeze --all | grep -v -i '^sfn[-_]trace[ =@]'; } > $(LOCK).new && \
	mv $(LOCK).new $(LOCK) && echo "wrote $(LOCK): $$(grep -vc '^#' $(LOCK)) pins"

## dist: build the sdist and the wheel into dist/
dist: $(STAMP)
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
