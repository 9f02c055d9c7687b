# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
LOCK_FLAGS ?=
UV := uv==0.13.9
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bytecode histories faults reliability bench format clean chromium postgresql lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The exact versions of the lock file, each checked against its hashes, with the
# sandboxes and the test tools; then Tocsin itself, resolving nothing more. uv
# installs them in parallel: about 10 s on a fresh machine, pip took over a minute.
# Compiled to bytecode as they are installed: where PYTHONDONTWRITEBYTECODE is set
# (CI machines), every process would otherwise compile its libraries from source.
$(INSTALLED): $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(UV)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes --compile-bytecode \
		-r $(DEV_LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# Both lock files from pyproject.toml, keeping their versions where they still fit;
# `make lock LOCK_FLAGS=--upgrade` takes the newest. requirements.lock (the image)
# holds what production needs; requirements-dev.lock adds the extras sandbox and test.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(UV)
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes \
		--no-header --quiet $(LOCK_FLAGS) -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra sandbox --extra test --python-version 3.11 \
		--generate-hashes --no-header --quiet $(LOCK_FLAGS) -o $(DEV_LOCK)

demo: bytecode
	$(BIN)/tocsin dev --demo

# Tocsin's own modules compiled once, for the same reason (only those changed since).
bytecode: $(INSTALLED)
	$(BIN)/python -m compileall -q -j 0 activities cli definitions gateway operations store \
		worker workflows tests benchmarks

# The console's browser tests drive Debian's Chromium (Playwright downloads no browser here).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

# The store's tests also run on a PostgreSQL cluster they start from Debian's binaries.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends postgresql; }

test: bytecode chromium postgresql
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest --numprocesses=auto --dist=loadfile

histories: $(INSTALLED)
	TOCSIN_RECORD_HISTORIES=1 $(BIN)/pytest -q tests/test_replay.py -k test_record_histories

# The fault-injection suite at full size, three rounds each; rewrites RELIABILITY.md.
faults: $(INSTALLED)
	TOCSIN_FAULT_SIZE=full TOCSIN_RELIABILITY_REPORT=RELIABILITY.md $(BIN)/pytest -q -m faults

reliability: faults
	TOCSIN_HYPOTHESIS_PROFILE=thorough TOCSIN_FUZZ_EXAMPLES=100 $(BIN)/pytest -q \
		tests/test_input_properties.py tests/test_api_fuzzing.py tests/test_replay.py

# A national activation beside a plain sender of the same messages, and their ratios
# (BENCHMARKS.md). It takes both cores for about ten minutes: run it alone.
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.national_activation

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .tocsin .pytest_cache .ruff_cache .mypy_cache test-artefacts
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
