# The two commands of README.md: `make run` (everything, locally) and `make test` (the suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint install bench clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "logmonitor needs Python 3.10+ (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip uninstall -q -y logmonitor 2>/dev/null || true  # the distribution's name before 0.1.0
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[server,rocksdb,test,bench]'
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/logmonitor up

lint: $(STAMP)
	$(BIN)/ruff check logmonitor tests tools $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/python -m tools.check_engine_private

# One broker, a parallel pass, then the timing-sensitive tests alone; the 25 slowest at the end (budget: 12 min).
test: lint
	$(BIN)/python -m tools.run_suite --hypothesis-profile=suite

# Long measurements (minutes); not part of the suite. Figures go to docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python -m bench.handler
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.groups_list
	$(BIN)/python -m bench.hostile
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
