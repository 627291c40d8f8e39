# fitscope notebooks: `make lab` runs the collection, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# A user-level "python3" kernelspec must not shadow the venv's own kernel.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test lint typecheck bench html screenshots clean

$(STAMP): requirements.txt requirements-test.txt pyproject.toml binder/overrides.json binder/postBuild
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-test.txt
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash binder/postBuild  # fitscope itself + lab settings, as on Binder
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (fitscope)" >/dev/null
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --ServerApp.root_dir=notebooks $(ROOT_FLAG)

# Each step stops make test on a finding: lint, then the type check, then the tests.
test: lint typecheck
	FITSCOPE_QUICK=1 $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Configured in pyproject.toml's [tool.mypy]: strict on instrument/ and diagnose/, basic elsewhere.
typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/run_all.py
	$(PY) benchmarks/pipeline_efficiency.py
	$(PY) benchmarks/notebook_times.py
	$(PY) benchmarks/backend_startup.py
	$(PY) benchmarks/diagnose_overhead.py
	$(PY) benchmarks/noise_floor.py
	$(PY) benchmarks/xprof_agreement.py  # about 20 min on 2 busy CPUs

# The site is rendered from the notebooks `make test` executed (artefacts/executed/); nothing runs twice.
html: $(STAMP)
	$(PY) docs/build_site.py artefacts/executed build $(notdir $(sort $(wildcard notebooks/*.ipynb)))

# The README's screenshots, taken by the browser test in a real JupyterLab, in default mode.
screenshots: $(STAMP)
	FITSCOPE_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py -k "run_all and (00_start_here or 01b_which_backend)"
	mkdir -p docs/img && cp artefacts/screens/*.png docs/img/

clean:
	rm -rf $(VENV) build artefacts .pytest_cache
