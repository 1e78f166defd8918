# Every target builds its own virtual environment from pyproject.toml: nothing here
# relies on a package installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

BENCH_BASELINE := results/benchmarks/baseline.json
BENCH_LATEST   := .benchmarks/latest.json
BENCH_SHORT    := --benchmark-max-time=0.05 --benchmark-min-rounds=3 --benchmark-disable-gc

# The peers (PyTorch, JAX, HIPS autograd) live in their own environment: .venv stays without
# them. PyTorch is pinned to its CPU build (PyPI's Linux wheel is the CUDA one).
PEERS_VENV  := .venv-peers
PEERS_BIN   := $(PEERS_VENV)/bin
PEERS_STAMP := $(PEERS_VENV)/.installed
TORCH_CPU   ?= torch==2.13.0+cpu
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: test report results bench bench-baseline peers report-peers clean

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

$(PEERS_STAMP): pyproject.toml
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_BIN)/python -m pip install --quiet --upgrade pip
	$(PEERS_BIN)/python -m pip install --quiet '$(TORCH_CPU)' --extra-index-url $(TORCH_INDEX)
	$(PEERS_BIN)/python -m pip install --quiet -e '.[peers]'
	touch $(PEERS_STAMP)

## make peers: the peers experiment alone, with PyTorch, JAX and HIPS autograd installed in
## .venv-peers (written into results/peers.csv and .json)
peers: $(PEERS_STAMP)
	$(PEERS_BIN)/costad run peers --results results

## make report-peers: as make report, the peers experiment run beside the peers (the
## reference run; make report alone times costad only and names the peers as not installed)
report-peers: $(STAMP) $(PEERS_STAMP)
	$(BIN)/costad run --all --results results
	$(PEERS_BIN)/costad run peers --results results
	$(BIN)/costad report --results results --out reports

## make results: run every experiment (default sizes, under 10 minutes on 2 cores)
results: $(STAMP)
	$(BIN)/costad run --all --results results

## make report: the study, then the report (reports/README.md and reports/figures/)
report: results
	$(BIN)/costad report --results results --out reports

clean:
	rm -rf $(VENV) $(PEERS_VENV) build *.egg-info .pytest_cache .benchmarks
