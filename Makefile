# The README's two commands. Each does the whole set-up (idempotent) and then runs.
.PHONY: setup demo test test-fast lint bench

VENV := .venv
PY := $(VENV)/bin/python

setup:
	@bash scripts/setup.sh

DEMO_EPISODES := runs/demo/episodes

demo: setup
	$(VENV)/bin/egym demo --out runs/demo
	@# then an evaluation on a small in-domain + OOD house-v2 set (2 test episodes per category, 1 ood;
	@# too few for the blind-baseline audit, which the shipped splits pass) by the oracle and the random
	@# agent, ending with the HTML report of both runs
	$(VENV)/bin/egym generate --suite house-v2 --split test --n 2 --no-audit --out $(DEMO_EPISODES)
	$(VENV)/bin/egym generate --suite house-v2 --split ood --n 1 --no-audit --out $(DEMO_EPISODES)
	$(VENV)/bin/egym eval --env EmbodiedTask-v0 --episodes $(DEMO_EPISODES) --agent oracle --out runs/demo/oracle --resume --no-progress
	$(VENV)/bin/egym eval --env EmbodiedTask-v0 --episodes $(DEMO_EPISODES) --agent random --out runs/demo/random --resume --no-progress
	$(VENV)/bin/egym compare runs/demo/oracle runs/demo/random
	$(VENV)/bin/egym report runs/demo/oracle runs/demo/random --out runs/demo/report --videos
	@echo "demo report: open runs/demo/report/index.html in a browser (a static site: no server needed)"

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(VENV)/bin/egym bench sim
	$(VENV)/bin/egym bench harness
