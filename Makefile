VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test bench compat lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test,plot,train,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile -q tests

bench: $(STAMP)
	$(PIP) install --quiet "jaxley==0.14.0" || echo "jaxley not installable: benchmarks run without it"
	$(PY) bench/run_bench.py

compat: $(STAMP)
	$(PIP) install --quiet "jaxley==0.14.0"
	$(PY) -m pytest -q tests/compat

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples

clean:
	rm -rf $(VENV) demo.png
