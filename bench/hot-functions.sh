#!/usr/bin/env bash
# Records which functions of the release binary the everyday commands execute
# (valgrind's callgrind: every call, not a sample) and writes them to
# bench/hot-functions.txt, which src/build.rs hands to the linker so that they
# sit together. Rerun after large changes; a stale list only costs locality.
#   bash bench/hot-functions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet
hoist="${CARGO_TARGET_DIR:-$PWD/target}/release/hoist"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

record() { # name dir args...
    local name=$1 dir=$2
    shift 2
    (cd "$dir" && valgrind --tool=callgrind --demangle=no --dump-instr=no \
        --callgrind-out-file="$work/$name.out" "$hoist" "$@" >/dev/null 2>&1) || true
}

# The example's pipeline: what the bench times.
record list examples/hbaas --list
record list-all examples/hbaas --list-all
record dry examples/hbaas --dry upload-image
record summary examples/hbaas --summary build-image
record vars examples/hbaas --vars
# A small real run: deps in parallel, sh vars, env, a call with vars, defer,
# an up-to-date check.
mkdir -p "$work/run"
cat >"$work/run/hoist.yml" <<'YAML'
vars:
  NAME: {sh: echo world}
env: {GREETING: hello}
tasks:
  default:
    deps: [a, b]
    cmds:
      - defer: echo done
      - echo "$GREETING {{ NAME | upper }}"
      - task: c
        vars: {N: "1"}
  a: echo a
  b: echo b
  c:
    sources: ["*.yml"]
    generates: [out.txt]
    cmds: ["echo {{ N }} > out.txt"]
YAML
record run "$work/run"
record run-up-to-date "$work/run"
record error "$work/run" no-such-task

# Functions (mangled, as the linker names them) in the order callgrind met them,
# each once.
cat "$work"/*.out | sed -n 's/^c\{0,1\}fn=([0-9]*) //p' | awk '!seen[$0]++' \
    | grep -v -e '^0x' -e '^(below main)' >"$work/hot"
nm "$hoist" | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u >"$work/defined"
grep -Fxf "$work/defined" "$work/hot" >bench/hot-functions.txt
echo "bench/hot-functions.txt: $(wc -l <bench/hot-functions.txt) functions"
