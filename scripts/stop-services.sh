#!/usr/bin/env bash
# Stops the registries and the Docker engine that setup.sh started.
set -uo pipefail
STATE=${HOIST_STATE_DIR:-/tmp/hoist-services}
for pid in "$STATE"/registry-*.pid; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null && rm -f "$pid"
done
pkill -x dockerd 2>/dev/null || true
