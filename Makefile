# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install browser run test lint typecheck pytest generate bench bench-dashboard clean

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

# The browser tests (tests/e2e) drive Debian's chromium: install it when it is missing
# (as root), or say exactly what to run.
CHROMIUM := /usr/bin/chromium

browser:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "The browser tests need Debian's chromium at $(CHROMIUM), which is missing." >&2; \
		echo "Install it, then run make test again:" >&2; \
		echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2; \
		exit 1; \
	fi; \
	echo "Installing Debian's chromium for the browser tests"; \
	export DEBIAN_FRONTEND=noninteractive; \
	if ! apt-cache show chromium >/dev/null 2>&1; then apt-get update; fi; \
	apt-get install -y --no-install-recommends chromium \
		|| { apt-get update && apt-get install -y --no-install-recommends chromium; }; \
	test -x $(CHROMIUM) || { echo "chromium did not install at $(CHROMIUM)" >&2; exit 1; }

pytest: install browser
	$(VENV)/bin/pytest

test: lint typecheck pytest

generate: install
	$(VENV)/bin/python tools/generate_ocpp.py

bench: install
	$(VENV)/bin/python -m benchmarks.bench_load

# Server time of the dashboard's list pages on 10,000 chargers and 1,000,000 transactions.
bench-dashboard: install
	$(VENV)/bin/python -m benchmarks.bench_dashboard

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
