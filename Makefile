# Thin wrappers over `python -m devtools`. Every target creates .venv and installs on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM ?= /usr/bin/chromium
APT_GET ?= apt-get
USER_ID ?= $(shell id -u)
NO_CHROMIUM = make test: $(CHROMIUM) is missing and the browser tests need Debian's package chromium

.PHONY: dev test lint bench migrate seed openapi clean bundle bundle-report deploy deploy-hosting deploy-platform pages

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_INSTALLED)

# Installed only when absent, as root; otherwise stop and say which package to install.
$(CHROMIUM):
	@if [ "$(USER_ID)" != 0 ]; then \
	  echo "$(NO_CHROMIUM): install it as root (sudo apt-get install -y chromium), then rerun" >&2; \
	  exit 1; \
	fi
	@echo "$(APT_GET) update && $(APT_GET) install -y chromium"
	@{ $(APT_GET) update && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y chromium; } \
	  || { echo "$(NO_CHROMIUM): apt-get could not install it; install chromium, then rerun" >&2; \
	       exit 1; }
	@test -x $(CHROMIUM) || { echo "$(NO_CHROMIUM): the package chromium did not install it" >&2; \
	  exit 1; }

dev: $(INSTALLED) ## serve the shop at http://127.0.0.1:8080 (PORT overrides)
	$(PY) -m devtools serve

test: $(CHROMIUM) $(INSTALLED) $(NODE_INSTALLED) ## run every test (installs chromium if missing)
	$(PY) -m pytest -n 2

lint: $(INSTALLED) ## ruff and mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy common devtools functions tests

bench: $(INSTALLED) ## cold start and import time of each function; writes bench/results/latest.json
	$(PY) -m devtools bench

migrate: $(INSTALLED) ## apply migrations (DATABASE_URL, Cloud SQL via INSTANCE_CONNECTION_NAME, or embedded)
	$(PY) -m devtools migrate

seed: $(INSTALLED) ## upsert the product catalog
	$(PY) -m devtools seed

openapi: $(INSTALLED) ## print the OpenAPI document
	$(PY) -m devtools openapi

bundle: $(INSTALLED) ## write build/functions/<name>/ for every function (FN=orders: one)
	$(PY) -m devtools bundle $(FN)

bundle-report: $(INSTALLED) ## install each bundle in a fresh venv: size, dependencies, import time
	$(PY) -m devtools bundle --report $(FN)

deploy: $(INSTALLED) ## deploy one function: make deploy FN=orders (DRY_RUN=1 prints the command)
	DRY_RUN=$(DRY_RUN) $(PY) -m devtools deploy $(FN)

deploy-hosting: $(INSTALLED) ## firebase deploy --only hosting (DRY_RUN=1 prints the command)
	DRY_RUN=$(DRY_RUN) $(PY) -m devtools deploy-hosting

deploy-platform: $(INSTALLED) ## Firestore TTL policies and the Stripe webhook endpoint (DRY_RUN=1 prints them)
	DRY_RUN=$(DRY_RUN) $(PY) -m devtools.deploy --platform

pages: $(INSTALLED) ## stamp hosting/_partials/ and each page's modulepreloads into hosting/*.html
	$(PY) -m devtools pages

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
