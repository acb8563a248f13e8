# Package and configuration-reference targets ("A package people can install"). Included by the Makefile.
#
#   make generate                also rewrites docs/eventops.schema.json and docs/configuration.md
#                                from bot/config.py and serverless.yml `params` (python -m bot.config_docs)
#   make wheel                   dist/eventops-<version>-py3-none-any.whl (`pip install .` builds the same)
#
# `make test` checks both generated files are fresh and installs the wheel into a fresh venv
# (tests/package).

.PHONY: generate-config wheel

generate: generate-config

generate-config: install
	$(BIN)/python -m bot.config_docs

wheel: install
	$(BIN)/python -m pip wheel --no-deps --wheel-dir dist .
