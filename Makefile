# Two commands: `make run` (set up and start the app on the sample workspace) and `make test`
# (set up, including Chromium for the browser tests, and run the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test lint bench browser spark screenshots clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Debian's Chromium drives the browser tests (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# Debian's OpenJDK 17 runs Spark in local mode for the engine tests (pyspark is pinned in
# requirements-dev.txt).
spark:
	@command -v java >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jre-headless; }

# ruff over the tree, then mypy over cjm_core (its settings are in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) browser spark lint
	CJM_REQUIRE_BROWSER=1 $(BIN)/python -m pytest

bench: $(STAMP)
	for b in path_bench ingest_bench transitions_bench dashboard_bench funnel_bench load_bench spark_bench; do $(BIN)/python -m bench.$$b || exit 1; done

# every page at 1600x1000 and the map's presentation mode at 1920x1080 and 1280x720, for review;
# the folder is not committed
screenshots: $(STAMP) browser
	$(BIN)/python -m scripts.screenshots --out screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
