# Thin wrappers over `python -m devtools`. Every target creates .venv and installs on first use.
# The Cloud Functions runtime's Python, named once: pyproject.toml's requires-python ("~=3.12.0").
PY_VERSION := $(shell sed -nE 's/^requires-python = "~=([0-9]+[.][0-9]+)[.]0"$$/\1/p' pyproject.toml)
$(if $(PY_VERSION),,$(error pyproject.toml: write requires-python as "~=X.Y.0", the runtime's Python))
# .venv is built by PYTHON when set, else python$(PY_VERSION) on PATH, else pyenv's $(PY_VERSION);
# each is asked its version (a pyenv shim of an unselected version fails to answer).
PYTHON ?=
PYENV ?= $(firstword $(shell command -v pyenv) $(wildcard $(HOME)/.pyenv/bin/pyenv) pyenv)
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEV_LOCK := requirements-dev.txt
PY_MINOR = -c 'import sys; print("%d.%d" % sys.version_info[:2])'
NO_PYTHON = make: Python $(PY_VERSION), the Cloud Functions runtime (pyproject.toml requires-python),\
 is not installed: install it (pyenv install $(PY_VERSION), or your system's python$(PY_VERSION)), then rerun
# A .venv made by another Python is rebuilt.
ifneq ($(wildcard $(PY)),)
ifneq ($(shell $(PY) $(PY_MINOR) 2>/dev/null),$(PY_VERSION))
REBUILD_VENV := FORCE
endif
endif
NODE_INSTALLED := node_modules/.installed
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM ?= /usr/bin/chromium
APT_GET ?= apt-get
USER_ID ?= $(shell id -u)
NO_CHROMIUM = make test: $(CHROMIUM) is missing and the browser tests need Debian's package chromium

.PHONY: dev test lint bench migrate seed openapi clean bundle bundle-report deploy deploy-hosting deploy-platform pages lock FORCE

# The dev lock, installed with its hashes: the versions the functions' locks deploy.
$(INSTALLED): pyproject.toml $(DEV_LOCK) $(REBUILD_VENV)
	@if [ "$$($(PY) $(PY_MINOR) 2>/dev/null)" != $(PY_VERSION) ]; then \
	  for python in $(or $(PYTHON),python$(PY_VERSION) \
	      $$($(PYENV) prefix $(PY_VERSION) 2>/dev/null | sed 's|$$|/bin/python$(PY_VERSION)|')); do \
	    if [ "$$($$python $(PY_MINOR) 2>/dev/null)" = $(PY_VERSION) ]; then found=$$python; break; fi; \
	  done; \
	  [ -n "$$found" ] || { echo "$(NO_PYTHON)" >&2; exit 1; }; \
	  echo "rm -rf $(VENV) && $$found -m venv $(VENV)"; \
	  rm -rf $(VENV) && $$found -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
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

lock: $(INSTALLED) ## compile requirements-dev.txt and functions/*/requirements.txt (UPGRADE=1: newest)
	$(PY) -m devtools lock $(if $(UPGRADE),--upgrade)

pages: $(INSTALLED) ## stamp hosting/_partials/ and each page's modulepreloads into hosting/*.html
	$(PY) -m devtools pages

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
