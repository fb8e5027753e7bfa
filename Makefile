# The two commands of the README:
#   make book   install, execute every notebook, render the HTML (_build/html/index.html)
#   make test   install, then run every test: unit and property tests, the architecture and lint
#               checks, nbval on every notebook under this machine's floating-point setup and
#               again under another one (tools/other_kernel.py), the book build with warnings as
#               errors, and the browser test of the rendered book
# For a quick loop while developing:
#   make unit   unit and property tests only (no notebooks, no book build)
#   make lint   ruff, mypy and the layers contract (import-linter)
#   make bench  the benchmarks (speed is measured there, never in a test)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest
# Data: the DEBD files are read from $SPNLIB_DATA if set, else from the per-user cache
# (~/.cache/spnlib/debd), where they are downloaded and checksum-verified on first use.

.PHONY: install book test unit lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .

# book: first check that every DEBD file the book reads is here or can be downloaded (a missing
# one stops the build before any notebook runs, with the loader's message), then build, saying
# which notebook is executing and how long each took (tools/build_book.py runs jupyter-book).
book: install
	$(BIN)/python tools/check_data.py
	$(BIN)/python tools/build_book.py . --all -W -n --keep-going
	@echo "The book is at _build/html/index.html"

test: install
	$(PYTEST) -n 2 --dist loadfile
	$(BIN)/python tools/other_kernel.py $(PYTEST) -n 2 --dist loadfile book

unit: install
	$(PYTEST) tests -m "not slow" --ignore=tests/test_book.py --ignore=tests/test_architecture.py

lint: install
	$(BIN)/ruff check spnlib tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_experiment.py --one-core
	$(BIN)/python benchmarks/bench_symbolic.py

clean:
	rm -rf _build
