# Two commands on a fresh machine: `make demo` and `make test`.
# The first interpreter that runs and is 3.10-3.12 (bolt11 and lnbits do not install on 3.13).
PYTHON ?= $(shell for p in python3 python3.12 python3.11 python3.10; do \
	$$p -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench sample clean

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "lnnotebook needs Python 3.10-3.12 (python3, python3.1x); set PYTHON=..." >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lnnotebook demo

test: $(STAMP)
	$(VENV)/bin/ruff check lnnotebook tests benchmarks
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check lnnotebook tests benchmarks
	$(VENV)/bin/ruff format --check lnnotebook tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/decode.py

# Regenerates data/sample_invoices.txt deterministically (fixed seed).
sample: $(STAMP)
	$(PY) -m lnnotebook.synthetic --sample data/sample_invoices.txt

clean:
	rm -rf $(VENV) data/out .pytest_cache .ruff_cache .hypothesis
