#!/usr/bin/env bash
# All of hoist's tests: starts what they need (scripts/setup.sh), then the unit
# and integration tests against the real engine and registries, then fmt and clippy.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
bash scripts/setup.sh
. "${HOIST_STATE_DIR:-/tmp/hoist-services}/env"
export HOIST_DOCKER_TESTS=1
# The fuzz suites (src/fuzz/) run inside `cargo test` with this many cases
# each, which keeps them to well under a minute; scripts/fuzz.sh is the long pass.
export PROPTEST_CASES=${PROPTEST_CASES:-64}
cargo test --all-targets 2>&1
# The tests that need the engine and registries are ignored in a plain `cargo test`
# (so they never pass without them); here the services are up: run them.
cargo test --test integration -- --ignored images:: hardening_io:: buildkit:: init:: makefile:: 2>&1
# The classic builder's stage images the tests left (untagged, with no label
# to tell whose they are): removed once no test builds; tests/common's `Made`
# says why not sooner.
docker image prune -f >/dev/null
# Podman's after Docker's, not beside them: its builds would load the machine
# while the Docker tests time their interruptions (2 cores).
cargo test --test integration -- --ignored podman:: 2>&1
podman image prune -f >/dev/null
cargo fmt --check
cargo clippy --all-targets -- -D warnings
# The release binary runs the main job: the example's pipeline, pushed for
# real, its tags checked in the registry.
bash scripts/main-job.sh 2>&1
echo "scripts/test.sh: all green"
