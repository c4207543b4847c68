# The README's two commands. Each does the whole set-up (idempotent) and then runs.
.PHONY: setup demo test test-fast lint bench

VENV := .venv
PY := $(VENV)/bin/python

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/egym demo --out runs/demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check embodied_gym tests

bench: setup
	$(VENV)/bin/egym bench sim
	$(VENV)/bin/egym bench harness
