# Two entry points for a fresh machine: `make site` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEVICE ?= auto
STAMP := $(VENV)/.installed

.PHONY: site test bench serve verify clean

# The venv is rebuilt when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

site: $(STAMP)
	$(PY) generate.py build --device $(DEVICE)

test: $(STAMP)
	$(PY) -m pytest -q

bench: site
	$(PY) generate.py bench --device $(DEVICE)

serve: $(STAMP)
	$(PY) generate.py serve

verify: $(STAMP)
	$(PY) generate.py verify

clean:
	rm -rf site
