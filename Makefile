# Every target builds its own virtual environment from pyproject.toml: nothing here
# relies on a package installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

BENCH_BASELINE := results/benchmarks/baseline.json
BENCH_LATEST   := .benchmarks/latest.json
BENCH_SHORT    := --benchmark-max-time=0.05 --benchmark-min-rounds=3 --benchmark-disable-gc

.PHONY: test report results bench bench-baseline clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make test: the whole suite (unit, property, benchmarks in short rounds), then the gate
## that fails if any benchmark's counts differ from the committed baseline
test: $(STAMP)
	mkdir -p .benchmarks
	$(BIN)/python -m pytest -q $(BENCH_SHORT) --benchmark-json=$(BENCH_LATEST)
	$(BIN)/costad bench-compare $(BENCH_BASELINE) $(BENCH_LATEST)

## make bench: the benchmarks with full rounds, compared with the baseline (times reported)
bench: $(STAMP)
	mkdir -p results/benchmarks
	$(BIN)/python -m pytest -q tests/benchmarks --benchmark-only --benchmark-json=results/benchmarks/bench.json
	$(BIN)/costad bench-compare $(BENCH_BASELINE) results/benchmarks/bench.json

## make bench-baseline: record a new baseline (commit it when counts change on purpose)
bench-baseline: $(STAMP)
	mkdir -p results/benchmarks
	$(BIN)/python -m pytest -q tests/benchmarks --benchmark-only --benchmark-json=$(BENCH_BASELINE)

## make results: run every experiment (default sizes, under 10 minutes on 2 cores)
results: $(STAMP)
	$(BIN)/costad run --all --results results

## make report: the study, then the report (reports/README.md and reports/figures/)
report: results
	$(BIN)/costad report --results results --out reports

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .benchmarks
