VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test jaxley-suite docs docs-full bench compat lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test,plot,train,dev,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/train_network.py --out demo.png

# Real model files for the mechanism tests come from PyPI wheels, downloaded (not installed)
# into .test-wheels/: Hay-type channels as .mod and NeuroML (bluepyemodel, bluepyopt) and a
# Jaxley-based channel library (jaxley-mech, for the jaxley alias). Tests skip without them.
TEST_WHEELS := .test-wheels

$(TEST_WHEELS)/.fetched:
	mkdir -p $(TEST_WHEELS)
	$(PIP) download --quiet --no-deps -d $(TEST_WHEELS) bluepyemodel==1.0.50 bluepyopt==1.14.26 jaxley-mech==0.4.0 \
		|| echo "could not fetch test wheels: Hay/NeuroML comparisons will be skipped"
	touch $(TEST_WHEELS)/.fetched

test: $(STAMP) $(TEST_WHEELS)/.fetched
	DENDRAX_TEST_WHEELS=$(TEST_WHEELS) $(PY) -m pytest -n 2 --dist loadfile -q tests
	$(PY) tests/jaxley_suite/run_suite.py

# Jaxley 0.14.0's own test suite, downloaded fresh into .jaxley-suite/ and run on dendrax
# (only the module name rewritten); fails on a test not in tests/jaxley_suite/known_differences.toml.
jaxley-suite: $(STAMP)
	$(PY) tests/jaxley_suite/run_suite.py

# Benchmarks and Jaxley comparisons use their own environment, so that installing jaxley
# (which pins its own JAX range) never changes the one the tests run in.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e ".[test,plot,train]"
	$(BENCH_VENV)/bin/pip install --quiet "jaxley==0.14.0" || echo "jaxley not installable: benchmarks run without it"
	$(BENCH_VENV)/bin/pip install --quiet arbor || echo "arbor not installable: bench_arbor.py runs without its columns"
	$(BENCH_VENV)/bin/pip install --quiet rockpool || echo "rockpool not installable: training benchmark runs dendrax only"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run_bench.py

compat: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/compat

# The documentation site (MkDocs + mkdocstrings) into build/site, warnings as errors;
# docs-full also runs every example for its figure (minutes).
docs: $(STAMP)
	$(PY) docs/gen_examples.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

docs-full: $(STAMP)
	$(PY) docs/gen_examples.py --run
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(TEST_WHEELS) .jaxley-suite demo.png
