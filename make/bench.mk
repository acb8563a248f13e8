# Evidence targets (issue 7, README "Performance"). Included by the Makefile.
#
#   make bench                   (Makefile) benchmarks: name: value lines, .bench/results.json
#   make fuzz                    the long fuzz run: every handler, EVENTOPS_FUZZ_EXAMPLES each test
#   make fuzz FUZZ_EXAMPLES=20000
#
# `make test` runs the same fuzz tests bounded (40 examples each, derandomized); here the seed is
# random, so each run explores new inputs. A failure prints the input to reproduce it.

FUZZ_EXAMPLES ?= 2000

fuzz: install
	EVENTOPS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) EVENTOPS_FUZZ_RANDOM=1 \
	$(BIN)/python -m pytest tests/fuzz -p no:randomly -q --timeout=0 --hypothesis-show-statistics $(PYTEST_ARGS)
