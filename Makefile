# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test lint typecheck pytest generate bench clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(VENV)/bin/python
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/chargegrid demo

lint: install
	$(VENV)/bin/ruff check src tests tools benchmarks
	$(VENV)/bin/ruff format --check src tests tools benchmarks

typecheck: install
	$(VENV)/bin/mypy

pytest: install
	$(VENV)/bin/pytest

test: lint typecheck pytest

generate: install
	$(VENV)/bin/python tools/generate_ocpp.py

bench: install
	$(VENV)/bin/python -m benchmarks.bench_load

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
