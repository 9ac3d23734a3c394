# The two quick-start commands: `make demo` and `make test`. Each sets up what it needs on a fresh machine:
# a virtual environment in .venv, graphc installed into it (editable), and Graphviz's `dot` program.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU build of PyTorch that the cross-check tests compare against (a test dependency only).
TORCH := torch==2.13.0

.PHONY: setup setup-dev graphviz demo test lint docs bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev,cuda]' '$(TORCH)'
	touch $@

# The runtime's kernels compiled for this machine (about a minute), so that a first model compiles only its own code;
# again whenever the runtime or the code generator (which kernels it calls, how) changes.
$(VENV)/.precompiled: $(VENV)/.installed $(wildcard graphc/backends/runtime/*.py graphc/backends/codegen/*.py)
	$(VENV)/bin/graphc cache --precompile
	touch $@

graphviz:
	@sh scripts/ensure-graphviz.sh

setup: $(VENV)/.installed $(VENV)/.precompiled graphviz

setup-dev: $(VENV)/.installed-dev $(VENV)/.precompiled graphviz

# The demo: a small LSTM language model trained for about a minute, its perplexity, a sample, pictures and a plot.
demo: setup
	$(VENV)/bin/graphc demo

lint: setup-dev
	$(PY) -m ruff check .

# One test process per core (pytest-xdist): compiling is single-threaded, and each process keeps its own caches.
test: lint
	$(PY) -m pytest -q -n auto

docs: setup-dev
	$(PY) scripts/optimizer_report.py
	$(PY) scripts/gallery.py

# Benchmarks compare graphc with its peers, which the benchmarks install for themselves (never the library).
bench: setup-dev
	$(PY) -m pip install --quiet 'jax[cpu]' threadpoolctl
	$(PY) benchmarks/mlp.py
	$(PY) benchmarks/recurrent.py
	$(PY) benchmarks/lm_parity.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
