# Two entry points, both working on a fresh machine with only Python 3 and make:
#   make serve   install into .venv and serve examples/ with `twistd -n web-re`
#   make test    install into .venv with the test extra and run scripts/check
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8080
BIN = $(VENV)/bin

# Rebuild Twisted's plugin caches (dropin.cache) right after installing, so
# that the web-re dropin is listed at once and no later run, perhaps as another
# user, has to rewrite a cache it may not be allowed to write.
REFRESH_PLUGINS = $(BIN)/python -c "from twisted.plugin import IPlugin, getPlugins; list(getPlugins(IPlugin))"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

.PHONY: install install-test serve test
install: $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	$(REFRESH_PLUGINS)

install-test: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	$(REFRESH_PLUGINS)

serve: install
	$(BIN)/twistd -n web-re --listen tcp:$(PORT):interface=127.0.0.1 --path examples

test: install-test
	PATH="$(CURDIR)/$(BIN):$$PATH" ./scripts/check
