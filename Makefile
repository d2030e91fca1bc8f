# Two commands do everything on a fresh machine with python3: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The demo needs the runtime dependencies only; tests, notebooks and benchmarks add the dev extra.
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed

.PHONY: demo test unit notebooks bench bench-tca setup clean

$(RUNTIME): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(RUNTIME)
	MPLBACKEND=Agg $(PY) -m execlab.demo $(ARGS)

unit: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q -p no:cacheprovider tests --doctest-modules execlab

notebooks: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q --nbval-lax -p no:cacheprovider notebooks/

test: unit notebooks

# bench_tca_dask runs up to the issue's 100,000,000 fills (about 30 GB of temporary parquet at the peak; the input is written once and
# cached; a size the disk cannot hold is left out, and said); `make bench-tca` runs that one alone.
bench: $(STAMP)
	rm -f benchmarks/results.jsonl
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
	$(PY) benchmarks/write_results.py  # benchmarks/RESULTS.md and the README's speed table, from this run

bench-tca: $(STAMP)
	$(PY) benchmarks/bench_tca_dask.py

clean:
	rm -rf $(VENV) .pytest_cache

# Peer for the event-level replay benchmark. hftbacktest 2.4.4 pins numpy < 2.3 and the project
# uses numpy 2.4, so it gets a venv of its own. The venv is built once; the run writes one JSON line.
PEER_VENV := benchmarks/.venv-hftbacktest
PEER_PY := $(PEER_VENV)/bin/python
.PHONY: bench-replay-peer

$(PEER_VENV)/.installed:
	test -x $(PEER_PY) || $(PYTHON) -m venv $(PEER_VENV)
	$(PEER_PY) -m pip install --quiet --disable-pip-version-check hftbacktest==2.4.4
	touch $@

bench-replay-peer: $(PEER_VENV)/.installed
	$(PEER_PY) benchmarks/peer_hftbacktest.py $(ARGS) > benchmarks/peer_hftbacktest.json.tmp
	mv benchmarks/peer_hftbacktest.json.tmp benchmarks/peer_hftbacktest.json
	cat benchmarks/peer_hftbacktest.json
