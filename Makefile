# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INSTALLED_TEST := $(VENV)/.installed-test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test histories faults reliability lint format clean chromium postgresql

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(INSTALLED_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/tocsin dev --demo

# The console's browser tests drive Debian's Chromium (Playwright downloads no browser here).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

# The store's tests also run on a PostgreSQL cluster they start from Debian's binaries.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends postgresql; }

test: $(INSTALLED_TEST) chromium postgresql
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

histories: $(INSTALLED_TEST)
	TOCSIN_RECORD_HISTORIES=1 $(BIN)/pytest -q tests/test_replay.py -k test_record_histories

# The fault-injection suite at full size, three rounds each; rewrites RELIABILITY.md.
faults: $(INSTALLED_TEST)
	TOCSIN_FAULT_SIZE=full TOCSIN_RELIABILITY_REPORT=RELIABILITY.md $(BIN)/pytest -q -m faults

reliability: faults
	TOCSIN_HYPOTHESIS_PROFILE=thorough TOCSIN_FUZZ_EXAMPLES=100 $(BIN)/pytest -q \
		tests/test_input_properties.py tests/test_api_fuzzing.py tests/test_replay.py

format: $(INSTALLED_TEST)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .tocsin .pytest_cache .ruff_cache test-artefacts
