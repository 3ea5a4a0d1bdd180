VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean postgres chromium

$(PY):
	python3 -m venv $(VENV)

# torch is pinned first so that the CPU build on local disk is taken; the project's own
# range (torch>=2.2,<3) is then already satisfied and pulls nothing more.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev,tune,imbalance,rl,serve,export,track]'
	touch $(STAMP)

# PostgreSQL for the shared-storage tuning test; non-fatal where it cannot be installed (the
# test is then skipped and says why).
postgres:
	@bash scripts/postgres.sh install || echo "make: PostgreSQL unavailable: the PostgreSQL tuning test will be skipped"

# Headless Chromium for the report's browser test; non-fatal where it cannot be installed (the
# test is then skipped and says why).
chromium:
	@sh scripts/chromium.sh

demo: $(STAMP)
	$(VENV)/bin/gradwise train examples/mnist1d-cnn.yaml --out runs

test: $(STAMP) postgres chromium
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(PIP) install -q -e '.[bench]'
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/mnist1d_accuracy.py

clean:
	rm -rf $(VENV) runs .pytest_cache
