# Evidence targets (issue 7, README "Performance"). Included by the Makefile.
#
#   make bench                   (Makefile) benchmarks: name: value lines, .bench/results.json
#                                (builds .bench/peer-venv for the peer row first)
#   make fuzz                    the long fuzz run: every handler, EVENTOPS_FUZZ_EXAMPLES each test
#   make fuzz FUZZ_EXAMPLES=20000
#
# `make test` runs the same fuzz tests bounded (40 examples each, derandomized); here the seed is
# random, so each run explores new inputs. A failure prints the input to reproduce it.

FUZZ_EXAMPLES ?= 2000

# The peer row (tests/bench/test_bench_peer.py): Cloud Custodian's notifier in a venv of its own,
# so nothing of it reaches the project's venv or its imports.
PEER_VENV  := .bench/peer-venv
PEER_STAMP := $(PEER_VENV)/.installed-$(shell cksum < tests/bench/peer/requirements.txt | cut -d' ' -f1)

$(PEER_STAMP): tests/bench/peer/requirements.txt
	@test -x $(PEER_VENV)/bin/python || $(PYTHON) -m venv $(PEER_VENV)
	@$(PEER_VENV)/bin/python -m pip install -q --disable-pip-version-check -r tests/bench/peer/requirements.txt
	@rm -f $(PEER_VENV)/.installed-*; touch $(PEER_STAMP)

bench: $(PEER_STAMP)

fuzz: install
	EVENTOPS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) EVENTOPS_FUZZ_RANDOM=1 \
	$(BIN)/python -m pytest tests/fuzz -p no:randomly -q --timeout=0 --hypothesis-show-statistics $(PYTEST_ARGS)
