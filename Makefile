# edi-recruit: two commands do all the set-up on a machine with python3 and make.
#   make demo   install, generate a synthetic trust, evaluate its latest month
#   make test   install and run the test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
export DO_NOT_TRACK = 1
export PREFECT_SERVER_ANALYTICS_ENABLED = false

.PHONY: demo test test-slow test-all install lock bench clean help

help:
	@echo "make demo       install, generate a synthetic trust and evaluate its latest month"
	@echo "make test       install and run the tests (CI)"
	@echo "make test-slow  the slow statistical studies (coverage over many seeds, national scale)"
	@echo "make bench      speed and memory benchmarks (prints tables)"
	@echo "make lock       regenerate requirements.lock from pyproject.toml"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	@# pip byte-compiles what it installs: where PYTHONDONTWRITEBYTECODE is set (as on our machines) Python
	@# never caches what it compiles, so `--no-compile` made every test process compile prefect & co. again
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/edi-recruit demo --workdir data/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=25

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or not slow"

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e ".[test]"
	( echo "# Locked dependency set for edi-recruit (Python 3.11). Regenerate with: make lock"; \
	  .lockenv/bin/pip freeze --exclude-editable ) > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf data/demo out .pytest_cache
