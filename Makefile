# Two commands on a fresh machine: `make train` and `make test`.
# torch is installed first, from PyTorch's CPU wheel index on machines without an NVIDIA GPU, so pip
# never pulls the multi-GB CUDA stack where it cannot be used. Override TORCH_SPEC / TORCH_INDEX for
# another build (TORCH_INDEX= with nothing after it means pip's own index).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_SPEC ?= torch==2.13.0
CPU_INDEX := https://download.pytorch.org/whl/cpu
GPU := $(shell command -v nvidia-smi 2>/dev/null)
TORCH_INDEX ?= $(if $(GPU),,$(CPU_INDEX))
# an unreachable index must fail in seconds, not after pip's default retries and 180 s timeouts
FAST_FAIL := --timeout 5 --retries 0
ARGS ?=
PYTEST_ARGS ?=
# one pytest worker per core (pytest-xdist); work stealing keeps both busy when one test is long.
# PYTEST_WORKERS=0 runs in one process (a debugger, or -x on the first failure in file order)
PYTEST_WORKERS ?= auto

.PHONY: train test lint benchmark clean-venv

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
ifeq ($(TORCH_INDEX),)
	@if $(PY) -c "import torch" 2>/dev/null; then echo "torch already installed: $$($(PY) -c 'import torch; print(torch.__version__)')"; \
	 else echo "installing $(TORCH_SPEC) from pip's index (GPU found: the CUDA build)"; \
	 $(PIP) install --quiet "$(TORCH_SPEC)"; fi
else
	@if $(PY) -c "import torch" 2>/dev/null; then echo "torch already installed: $$($(PY) -c 'import torch; print(torch.__version__)')"; \
	 else echo "installing $(TORCH_SPEC), CPU build, from $(TORCH_INDEX)"; \
	 $(PIP) install --quiet $(FAST_FAIL) --index-url $(TORCH_INDEX) "$(TORCH_SPEC)" 2>/dev/null || \
	 { echo "$(TORCH_INDEX) unreachable: installing $(TORCH_SPEC) from pip's configured index"; \
	   $(PIP) install --quiet "$(TORCH_SPEC)"; }; fi
endif
	@echo "installing kinsynth and its dependencies (pip install -e .[test])"
	@$(PIP) install --quiet -e ".[test]"
	@touch $@

train: $(VENV)/.installed
	$(PY) train.py $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# ruff: style and likely bugs; lint-imports: the layers contract in pyproject.toml (a package
# imports only from the layers below it); mypy: the types of src/ ([tool.mypy] in pyproject.toml)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

benchmark: $(VENV)/.installed
	$(PY) scripts/benchmark.py

clean-venv:
	rm -rf $(VENV)
