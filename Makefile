# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ./data
# `make run BOLT_PORT=7688` when another server holds 7687 (BACKUP_PORT likewise for 6362).
BOLT_PORT ?= 7687
BACKUP_PORT ?= 6362

.PHONY: install install-test install-bench clients run test bench clean

# Idempotent: the stamp files make a second `make install` a no-op while
# pyproject.toml is unchanged.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python $(VENV)/.system-packages
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# Debian packages the tests drive, as command:package: a real terminal (tmux)
# for the shell's Ctrl-C test; libfuse 3 and fusermount3 (fuse3) for the power
# cuts below RocksDB (tests/durability/powercutfs.py). Installed once when a
# command is missing.
SYSTEM_PACKAGES := tmux:tmux fusermount3:fuse3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(VENV)/.system-packages: Makefile | $(BIN)/python
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
		command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

# The published clients tests/clients drives, each in its own environment
# under .clients/ (not committed): a venv per Python client made with the
# machine's python3 from tests/clients/envs/<name>.txt, then <name>-nodeps.txt
# (when there is one) installed without dependencies; and neo4j-driver for
# JavaScript from tests/clients/package.json and its lock file under the
# machine's node. The stamps rebuild an environment when its files change.
CLIENTS := .clients
CLIENT_ENVS := neo4j5 neo4j6 gqlalchemy neomodel langchain py2neo pymgclient
CLIENT_STAMPS := $(CLIENT_ENVS:%=$(CLIENTS)/%/.installed) $(CLIENTS)/js/.installed

$(CLIENTS)/%/.installed: tests/clients/envs/%.txt $(wildcard tests/clients/envs/*-nodeps.txt)
	rm -rf $(CLIENTS)/$*
	$(PYTHON) -m venv $(CLIENTS)/$*
	$(CLIENTS)/$*/bin/pip install --quiet -r $<
	if [ -f tests/clients/envs/$*-nodeps.txt ]; then \
		$(CLIENTS)/$*/bin/pip install --quiet --no-deps -r tests/clients/envs/$*-nodeps.txt; fi
	touch $@

$(CLIENTS)/js/.installed: tests/clients/package.json tests/clients/package-lock.json
	rm -rf $(CLIENTS)/js
	mkdir -p $(CLIENTS)/js
	cp $^ $(CLIENTS)/js/
	cd $(CLIENTS)/js && npm ci --silent --no-audit --no-fund
	touch $@

clients: $(CLIENT_STAMPS)

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test $(CLIENT_STAMPS)

install-bench: $(VENV)/.installed-bench

run: install
	$(BIN)/weftdb serve --data-directory $(DATA) --bolt-port $(BOLT_PORT) --backup-port $(BACKUP_PORT)

test: install-test
	$(BIN)/ruff check weftdb tests bench
	$(BIN)/python -m pytest -q

bench: install-bench
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(CLIENTS) build *.egg-info
