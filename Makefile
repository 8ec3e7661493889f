# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench sample clean

$(STAMP): pyproject.toml requirements.lock
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
