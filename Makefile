# The two commands of README.md:
#   make demo   installs cti and runs the whole product (embedded PostgreSQL + PBX simulator)
#   make test   installs everything the tests need and runs lint, types and the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-pbx lint bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.run-installed

demo: $(VENV)/.run-installed
	$(BIN)/cti demo $(if $(LANGUAGE),--language $(LANGUAGE))

# The JavaScript linter of the pages (Biome, pinned in package.json / package-lock.json).
node_modules/.bin/biome: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(VENV)/.dev-installed node_modules/.bin/biome
	$(BIN)/ruff check cti tests bench
	$(BIN)/ruff format --check cti tests bench
	$(BIN)/mypy --strict cti
	node_modules/.bin/biome lint

test: $(VENV)/.dev-installed lint
	scripts/ensure-chromium
	scripts/ensure-haproxy
	scripts/ensure-coturn
	@scripts/pbx-tier-note
	$(BIN)/pytest

# Only the pbx tier: cti against a real Asterisk (../shared/pbx/build-asterisk builds it once).
test-pbx: $(VENV)/.dev-installed
	scripts/ensure-chromium
	scripts/ensure-haproxy
	scripts/ensure-coturn
	@scripts/pbx-tier-note
	$(BIN)/pytest tests/pbx

bench: $(VENV)/.dev-installed
	scripts/ensure-haproxy
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Retake docs/desk.png and docs/wallboard.png (the README's pictures) from the browser tests.
screenshots: $(VENV)/.dev-installed
	scripts/ensure-chromium
	CTI_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q -m browser

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis
