# Two entry points for a fresh machine: `make site` and `make test`; `make check` is the quick lane.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEVICE ?= auto
STAMP := $(VENV)/.installed

.PHONY: site test check system-packages bench serve verify clean

# The venv is rebuilt when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

site: $(STAMP)
	$(PY) generate.py build --device $(DEVICE)

test: $(STAMP) system-packages
	$(PY) -m pytest -q

# Everything but the browser tests and the claims on the full registry (markers in pytest.ini):
# no page opened, no full training (shellcheck is needed: the workflow's test runs it).
check: $(STAMP) system-packages
	$(PY) -m pytest -q -m "not browser and not full"

# The tests run Debian's /usr/bin/chromium (browser tests) and /usr/bin/shellcheck (the workflow's
# scripts). As root on Debian/Ubuntu this installs the missing ones with one apt-get call; anywhere
# else it stops, before any test runs, with the one command to run.
system-packages: $(STAMP)
	$(PY) -m lossarticle.system_packages --ensure

bench: site
	$(PY) generate.py bench --device $(DEVICE)

serve: $(STAMP)
	$(PY) generate.py serve --device $(DEVICE)

verify: $(STAMP)
	$(PY) generate.py verify

clean:
	rm -rf site
