#!/usr/bin/env bash
# Bounded headless locust run against the local service (`make serve`), one command:
#
#   scripts/loadtest.sh                       # 4 users, 60 s, one process
#   WORKERS=2 scripts/loadtest.sh             # distributed: 1 master + 2 workers on this host
#   USERS=8 RUN_TIME=5m scripts/loadtest.sh --slo-p95-ms 30000 FrontendUser
#
# Extra arguments go to locust (SLO options, user class names). Reports land in OUT_DIR:
# tts_stats.csv, tts_final_stats.csv, tts_tts_metrics.csv, tts.html. The exit code is the
# SLO gate's (0 pass, 1 fail). Settings (environment): HOST (frontend), TTS_TRITON_HTTP_URL,
# TTS_TRITON_GRPC_URL (set either to "" to leave that target out), USERS, SPAWN_RATE,
# RUN_TIME, WORKERS, MASTER_PORT, OUT_DIR, PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
HOST=${HOST:-http://127.0.0.1:8080}
export TTS_TRITON_HTTP_URL=${TTS_TRITON_HTTP_URL-127.0.0.1:8000}
export TTS_TRITON_GRPC_URL=${TTS_TRITON_GRPC_URL-127.0.0.1:8001}
USERS=${USERS:-4}
SPAWN_RATE=${SPAWN_RATE:-2}
RUN_TIME=${RUN_TIME:-60s}
WORKERS=${WORKERS:-0}
MASTER_PORT=${MASTER_PORT:-5557}
OUT_DIR=${OUT_DIR:-out/loadtest/$(date -u +%Y%m%dT%H%M%SZ)}
LOCUSTFILE=loadtest/locustfile.py

mkdir -p "$OUT_DIR"
common=(-f "$LOCUSTFILE")
run=(--headless -u "$USERS" -r "$SPAWN_RATE" -t "$RUN_TIME"
     --host "$HOST" --csv "$OUT_DIR/tts" --html "$OUT_DIR/tts.html" --only-summary)

if [[ "$WORKERS" -eq 0 ]]; then
    exec "$PYTHON" -m locust "${common[@]}" "${run[@]}" "$@"
fi

worker_pids=()
stop_workers() {
    # Stopped workers idle until told to quit; a worker whose master is gone can hang in
    # its own shutdown, hence TERM, a grace period, then KILL.
    for pid in "${worker_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 20); do
        alive=0
        for pid in "${worker_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [[ $alive -eq 0 ]] && return
        sleep 0.5
    done
    for pid in "${worker_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap stop_workers EXIT
for i in $(seq 1 "$WORKERS"); do
    "$PYTHON" -m locust "${common[@]}" --worker --master-host 127.0.0.1 \
        --master-port "$MASTER_PORT" >"$OUT_DIR/worker-$i.log" 2>&1 &
    worker_pids+=($!)
done
status=0
"$PYTHON" -m locust "${common[@]}" --master --master-bind-host 127.0.0.1 \
    --master-bind-port "$MASTER_PORT" --expect-workers "$WORKERS" "${run[@]}" "$@" || status=$?
echo "reports: $OUT_DIR"
exit "$status"
