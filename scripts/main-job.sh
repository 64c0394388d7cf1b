#!/usr/bin/env bash
# The main job: the example Go service's pipeline (build-linux -> build-image ->
# upload-image), built and pushed to the local registry, then the tags it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
bash scripts/setup.sh
cargo build --release --quiet
export REGISTRY=127.0.0.1:5000
cd examples/hbaas
../../target/release/hoist upload-image
echo
echo "tags in $REGISTRY/go-with-the-flow/hbaas-server:"
tags=$(curl -fsS "http://$REGISTRY/v2/go-with-the-flow/hbaas-server/tags/list") || {
    echo "main job: cannot list the tags at $REGISTRY (is the registry up? bash scripts/setup.sh starts it)" >&2
    exit 1
}
echo "$tags"
# The job fails unless the tags it pushed are there: `latest` and VERSION
# (what `git describe --tags --always` prints).
for tag in latest "$(git describe --tags --always)"; do
    case "$tags" in
    *"\"$tag\""*) ;;
    *) echo "main job: $tag is not among the registry's tags" >&2; exit 1 ;;
    esac
done
