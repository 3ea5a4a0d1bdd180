VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(PY):
	python3 -m venv $(VENV)

# torch is pinned first so that the CPU build on local disk is taken; the project's own
# range (torch>=2.2,<3) is then already satisfied and pulls nothing more.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev,tune,imbalance]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gradwise train examples/mnist1d-cnn.yaml --out runs

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/mnist1d.py

clean:
	rm -rf $(VENV) runs .pytest_cache
