# The two commands of the README:
#   make book   install, execute every notebook, render the HTML (_build/html/index.html)
#   make test   install, then run every test (unit tests, nbval on every notebook,
#               the book build with warnings as errors)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Data: the DEBD files are read from $SPNLIB_DATA if set, else from the per-user cache
# (~/.cache/spnlib/debd), where they are downloaded and checksum-verified on first use.

.PHONY: install book test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .

book: install
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "The book is at _build/html/index.html"

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_experiment.py
	$(BIN)/python benchmarks/bench_symbolic.py

clean:
	rm -rf _build
