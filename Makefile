# The two quick-start commands: `make demo` and `make test`. Each sets up its own virtual
# environment on first use, so they work on a fresh machine with only Python 3.10+.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU-runnable torch pair this project is tested with; any CUDA build works for training.
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

.PHONY: install demo test bench
install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ssrl demo outputs/demo

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples studies
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_tasks.py
