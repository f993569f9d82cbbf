# Every target creates and uses .venv itself, so a fresh machine needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint fixtures bench golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: run the seed incident in an in-process moto server and diagnose it live
demo: $(STAMP)
	$(PY) -m fixtures.demo

## test: the whole test suite (unit, Stubber, recorded AWS corpus, moto end to end)
test: $(STAMP)
	$(PY) -m pytest -q

## lint: ruff (lint + format check) and mypy on the package
lint: $(STAMP)
	$(VENV)/bin/ruff check sfn_trace tests fixtures
	$(VENV)/bin/ruff format --check sfn_trace tests fixtures
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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
