# Two commands on a fresh machine: `make train` and `make test`.
# The CPU build of torch is installed first on machines without a GPU, so pip never pulls a CUDA build.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
ARGS ?=
PYTEST_ARGS ?=

.PHONY: train test lint benchmark clean-venv

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	@if $(PY) -c "import torch" 2>/dev/null; then echo "torch already installed: $$($(PY) -c 'import torch; print(torch.__version__)')"; \
	 elif command -v nvidia-smi >/dev/null 2>&1; then echo "GPU found: install your CUDA build of torch into $(VENV) first (see README)"; $(PY) -m pip install torch; \
	 else $(PY) -m pip install --quiet "$(TORCH_SPEC)"; fi
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

train: $(VENV)/.installed
	$(PY) train.py $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

benchmark: $(VENV)/.installed
	$(PY) scripts/benchmark.py

clean-venv:
	rm -rf $(VENV)
