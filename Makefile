# make run   - create .venv, install kg, build the graph, validate it, print stats
# make test  - create .venv, install kg with its test tools, lint, type-check, run the tests
# make screenshot - docs/graph.png, the HTML graph as headless Chromium draws it

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kg-installed

.PHONY: run test lint pytest build screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kg build
	$(BIN)/kg validate
	$(BIN)/kg stats
	$(BIN)/kg viz -o build/graph.html

build: $(STAMP)
	$(BIN)/kg build

test: lint pytest

lint: $(STAMP)
	$(BIN)/ruff check kg tests benchmarks
	$(BIN)/mypy kg

pytest: $(STAMP)
	$(BIN)/python -m pytest

# the README's picture of the HTML graph, taken in headless /usr/bin/chromium
screenshot: $(STAMP)
	$(BIN)/kg build
	$(BIN)/kg viz -o build/graph.html
	$(BIN)/python docs/screenshot.py build/graph.html docs/graph.png

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
