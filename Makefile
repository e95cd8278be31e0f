# Two commands on a fresh machine: `make demo` (the main job on embedded DuckDB) and `make test` (every test).
PYTHON ?= python3
export SQLMESH__DISABLE_ANONYMIZED_ANALYTICS := true

.PHONY: install demo lint test bench golden clean

install:
	$(PYTHON) -m pip install -q -e ".[test]"

demo: install
	$(PYTHON) -m seeknal_sqlmesh.demo sample_project build/sample config.yaml

# ruff (lint + format) and mypy on the package, and no import cycles: `make test` runs it first, so CI enforces it.
lint: install
	$(PYTHON) -m ruff check seeknal_sqlmesh
	$(PYTHON) -m ruff format --check seeknal_sqlmesh
	$(PYTHON) -m mypy
	$(PYTHON) scripts/import_cycles.py

test: lint
	$(PYTHON) -m pytest -q

bench: install
	$(PYTHON) bench/translate.py
	$(PYTHON) bench/run_vs_seeknal.py

golden:
	bash scripts/seeknal-golden.sh

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
