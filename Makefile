# Binôme — one entry point for developers and CI.
# `make run` and `make test` work on a fresh clone: they create the virtual
# environment, install the locked dependencies and start the embedded PostgreSQL.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: install run test quality format demo generate clean bench

install: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Binôme demande Python 3.12 ou plus récent (trouvé " + sys.version.split()[0] + ").")'
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8; }
	@$(BIN)/uv sync --frozen --quiet --python $(BIN)/python
	@rm -f $(VENV)/.synced-* && touch $@

run: install
	@scripts/ensure-pango || echo "Binôme démarre sans Pango : le PDF du contrat d'engagement ne pourra pas être produit."
	@$(BIN)/binome run

test: install
	@scripts/ensure-chromium
	@scripts/ensure-pango
	@$(BIN)/binome test

quality: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint binome --lint
	$(BIN)/lint-imports
	$(BIN)/mypy binome
	$(BIN)/binome manage makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djlint binome --reformat --quiet || true

demo: install
	@$(BIN)/binome demo

bench: install
	@$(BIN)/binome bench

clean:
	rm -rf $(VENV) var
