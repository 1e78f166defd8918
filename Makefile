# Every target builds its own virtual environment from pyproject.toml: nothing here
# relies on a package installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test report results bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make test: install into .venv and run the whole suite (unit, property, benchmarks in short rounds)
test: $(STAMP)
	$(BIN)/python -m pytest -q --benchmark-disable-gc --benchmark-max-time=0.05 --benchmark-min-rounds=3

## make results: run every experiment (default sizes, under 10 minutes on 2 cores)
results: $(STAMP)
	$(BIN)/costad run --all --results results

## make report: the study, then the report (reports/README.md and reports/figures/)
report: results
	$(BIN)/costad report --results results --out reports

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .benchmarks
