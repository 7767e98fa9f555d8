# Two commands do all the setup on a fresh machine:
#   make serve   install, build the models if absent, start Triton + the frontend on localhost
#   make test    install, build the models if absent, run unit, integration and load tests
PY := .venv/bin/python
TIER ?=

.PHONY: setup models browser serve test test-unit test-integration bench lint format render

setup:
	@bash scripts/setup_env.sh

models: setup
	$(PY) -m mandarin_tts.build

serve: models
	$(PY) -m mandarin_tts.serving.launcher $(if $(TIER),--tier $(TIER),)

# Render a tier's Triton repository (TIER=cpu-2 rewrites the committed model_repository/;
# other tiers go to .cache/model_repository/<tier>). `make render TIER=gpu-t4`
render: setup
	$(PY) -m mandarin_tts.serving.render --tier $(or $(TIER),cpu-2)

# Browser test needs Debian's chromium; without it (no apt) that one test skips with a reason.
browser:
	@bash scripts/install_chromium.sh >/dev/null 2>&1 || echo "chromium not installed: the browser test will skip"

test: models browser
	$(PY) -m ruff check .
	$(PY) -m pytest -q tests/unit tests/integration tests/load

test-unit: setup
	$(PY) -m pytest -q tests/unit

test-integration: models
	$(PY) -m pytest -q tests/integration

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The pipeline in five deployments side by side, table + ratios + targets, JSON/CSV in
# out/bench/ (docs/bench.md). Quick by default (~20 s per concurrency level); BENCH_ARGS=--full.
bench: models
	$(PY) -m loadtest.bench $(or $(BENCH_ARGS),--quick)

# Per-tier tuning sweep on this machine (docs/tuning.md); TUNE_ARGS="--full --min-gain 0.03 --write"
.PHONY: tune
tune: models
	$(PY) -m loadtest.tune $(if $(TIER),--tier $(TIER),) $(or $(TUNE_ARGS),--quick)

# Bounded headless locust run against `make serve` (docs/loadtest.md); WORKERS=2 for master + 2 workers.
.PHONY: loadtest
loadtest:
	bash scripts/loadtest.sh $(LOADTEST_ARGS)
