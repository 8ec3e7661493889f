# Two commands on a fresh machine: `make demo` and `make test`.
# .venv: python3 when it is 3.10 or newer, else the newest python3.1x on PATH (pyenv shims that are not
# active fail the check and are skipped).
PYTHON ?= $(shell for p in python3 python3.14 python3.13 python3.12 python3.11 python3.10; do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] < (3, 10))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
# LNbits is a separate server that supports Python <= 3.12: its own venv on the newest such interpreter,
# on PATH or among pyenv's versions.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null)
LNBITS_PYTHON ?= $(shell for p in python3.12 python3.11 python3.10 python3 \
	$(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.12*/bin/python3.12)) \
	$(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.11*/bin/python3.11)) \
	$(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.10*/bin/python3.10)); do \
	$$p -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
VENV := .venv
PYTEST_ARGS ?=  # e.g. PYTEST_ARGS="-k ledger"; .ci/run uses it to run the browser test on its own
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

LNBITS_VERSION := 1.6.2
LNBITS_VENV := .venv-lnbits
LNBITS_STAMP := $(LNBITS_VENV)/.installed-$(LNBITS_VERSION)

.PHONY: demo test lint bench sample clean lnbits lab

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "lnnotebook needs Python 3.10 or newer (python3 or python3.1x on PATH); set PYTHON=..." >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lnnotebook demo

# JupyterLab on notebooks/ (jupyterlab and ipykernel come with the dev extra). As root it needs --allow-root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	$(VENV)/bin/ruff check lnnotebook tests benchmarks
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check lnnotebook tests benchmarks
	$(VENV)/bin/ruff format --check lnnotebook tests benchmarks
	$(VENV)/bin/mypy lnnotebook

bench: $(STAMP)
	$(PY) benchmarks/decode.py

# A real LNbits for tests/test_providers_lnbits.py, in its own venv (it pins many packages). bitstring<5:
# bitstring 5 removed ConstBitStream, which the bolt11 that LNbits pins needs (pip check misses it).
lnbits: $(LNBITS_STAMP)

$(LNBITS_STAMP):
	@test -n "$(LNBITS_PYTHON)" || { echo "make lnbits: LNbits $(LNBITS_VERSION) needs Python 3.10-3.12 and none was found (python3.12, python3.11, python3.10, python3 or pyenv versions); the LNbits tests and the demo's LNbits part are skipped. Set LNBITS_PYTHON=... to choose one." >&2; exit 1; }
	test -x $(LNBITS_VENV)/bin/python || $(LNBITS_PYTHON) -m venv $(LNBITS_VENV)
	$(LNBITS_VENV)/bin/python -m pip install --quiet "lnbits==$(LNBITS_VERSION)" "bitstring<5"
	touch $(LNBITS_STAMP)

# Regenerates lnnotebook/examples/sample_invoices.txt deterministically (fixed seed).
sample: $(STAMP)
	$(PY) -m lnnotebook.synthetic --sample lnnotebook/examples/sample_invoices.txt

clean:
	rm -rf $(VENV) data/out .pytest_cache .ruff_cache .hypothesis
