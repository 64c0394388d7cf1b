#!/usr/bin/env bash
# Stops the registries, the Podman service and the Docker engine that setup.sh started (by the pids
# it recorded), and nothing else: a daemon started by hand or by systemd stays.
set -uo pipefail
STATE=${HOIST_STATE_DIR:-/tmp/hoist-services}

stop() { # pidfile
    local pidfile=$1 pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        # dockerd needs a moment to stop its containers and containerd.
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "stopped $(basename "$pidfile" .pid) (pid $pid)"
    fi
    rm -f "$pidfile"
}

for pidfile in "$STATE"/registry-*.pid; do
    stop "$pidfile"
done
stop "$STATE/podman.pid"
stop "$STATE/dockerd.pid"
