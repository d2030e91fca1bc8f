# Two commands do everything on a fresh machine with python3: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test unit notebooks bench setup clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(PY) -m execlab.demo $(ARGS)

unit: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q -p no:cacheprovider tests --doctest-modules execlab

notebooks: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q --nbval-lax -p no:cacheprovider notebooks/

test: unit notebooks

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
