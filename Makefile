# EventOps. `make run` and `make test` install what they need into .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install run test lint format bench fuzz package clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m bot sandbox $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m pytest tests/bench -p no:randomly -q -s $(PYTEST_ARGS)

# Area targets (deploy/package, ...) live beside this file.
-include make/*.mk

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
