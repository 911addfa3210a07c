# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ./data

.PHONY: install install-test install-bench run test bench clean

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
# for the shell's Ctrl-C test. Installed once when a command is missing.
SYSTEM_PACKAGES := tmux:tmux
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

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

install-bench: $(VENV)/.installed-bench

run: install
	$(BIN)/weftdb serve --data-directory $(DATA)

test: install-test
	$(BIN)/ruff check weftdb tests bench
	$(BIN)/python -m pytest -q

bench: install-bench
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
