#!/usr/bin/env bash
# Records what the real docker CLI sends as build context for each case under
# tests/fixtures/dockerignore/: builds the case's tree with its .dockerignore
# using the classic builder (DOCKER_BUILDKIT=0), copies the context into an
# image and lists its files into expected.txt. The context tests compare
# hoist's walker with these lists. Needs a running engine (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../tests/fixtures/dockerignore"
for case in */; do
    case=${case%/}
    work=$(mktemp -d)
    while IFS= read -r path; do
        [ -n "$path" ] || continue
        mkdir -p "$work/$(dirname "$path")"
        printf '%s\n' "$path" >"$work/$path"
    done <"$case/tree.txt"
    cp "$case/dockerignore" "$work/.dockerignore"
    printf 'FROM hoist-test/busybox:latest\nCOPY . /ctx\nRUN cd /ctx && find . -type f | sed "s#^\\./##" | sort >/files.txt\n' >"$work/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q -t hoist-dockerignore-case "$work" >/dev/null 2>&1
    docker run --rm hoist-dockerignore-case cat /files.txt >"$case/expected.txt"
    rm -rf "$work"
    echo "$case: $(wc -l <"$case/expected.txt") files"
done
docker rmi hoist-dockerignore-case >/dev/null
