#!/usr/bin/env bash
# Installs and starts what hoist's tests and main job need, on a fresh Debian
# machine or an existing one. Idempotent: what is there already is kept.
#
#   - packages: docker.io, docker-registry, podman, golang-go, busybox-static,
#     hyperfine, apache2-utils (htpasswd), openssl, curl, git, make, time; go-task
#     and just from PyPI
#   - a Docker engine without a bridge (no container ever gets a private address)
#   - Podman's Docker-compatible API on $HOIST_STATE_DIR/podman.sock, without
#     a network for its containers either
#   - registries on loopback: plain :5000, htpasswd :5001, TLS + htpasswd :5002
#   - local base images (nothing can be pulled), in both engines:
#     hoist-test/busybox, hoist-test/golang
#
# Writes $HOIST_STATE_DIR/env (default /tmp/hoist-services/env) for tests to source.
set -euo pipefail

STATE=${HOIST_STATE_DIR:-/tmp/hoist-services}
mkdir -p "$STATE"
log() { printf 'setup: %s\n' "$*" >&2; }

# Stops the daemon a pid file names and waits (TRIES times 0.2 s) until it has
# exited: until then it holds its socket and pid file, and a new one cannot start.
stop_by_pid_file() { # file tries
    local pid
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 "$2"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
}

install_packages() {
    local need=()
    command -v dockerd >/dev/null || need+=(docker.io)
    command -v docker-registry >/dev/null || need+=(docker-registry)
    # Its recommends (buildah, slirp4netns, uidmap...) serve rootless use; the
    # service here runs as root and builds with the Buildah inside podman.
    command -v podman >/dev/null || need+=(podman)
    command -v go >/dev/null || need+=(golang-go)
    [ -x /bin/busybox ] || need+=(busybox-static)
    command -v hyperfine >/dev/null || need+=(hyperfine)
    command -v htpasswd >/dev/null || need+=(apache2-utils)
    command -v openssl >/dev/null || need+=(openssl)
    command -v curl >/dev/null || need+=(curl)
    command -v git >/dev/null || need+=(git)
    [ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
    # tests/makefile.rs compares migrated Makefiles with GNU make itself.
    command -v make >/dev/null || need+=(make)
    # The bench reads peak memory from GNU time's -v (minimal images lack it).
    [ -x /usr/bin/time ] || need+=(time)
    if ((${#need[@]})); then
        log "installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
    if ! command -v task >/dev/null || ! command -v just >/dev/null; then
        install_task_just
    fi
}

# go-task and just come as wheels from PyPI. Debian 12's own python3 refuses
# `pip install` outside a venv (PEP 668, EXTERNALLY-MANAGED); these wheels only
# drop a binary into /usr/local/bin, so overriding that guard is harmless.
install_task_just() {
    log "installing go-task and just from PyPI"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
    fi
    local flags=(-q --disable-pip-version-check)
    if python3 -c 'import sys, sysconfig, os; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
        flags+=(--break-system-packages)
    fi
    python3 -m pip install "${flags[@]}" go-task-bin rust-just >"$STATE/pip.log" 2>&1 \
        || log "warning: pip install of go-task/just failed (only the bench needs them); see $STATE/pip.log"
}

# The tests need a recent Rust (Debian's rustc is too old); rustup's lives in ~/.cargo.
check_rust() {
    if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
        . "$HOME/.cargo/env"
    fi
    command -v cargo >/dev/null || log "warning: no cargo on PATH nor in ~/.cargo/bin; install Rust with rustup to build hoist"
}

# Certificates for the engine's TLS endpoint (tcp://127.0.0.1:2376), so the
# tests can reach the engine the way DOCKER_TLS_VERIFY/DOCKER_CERT_PATH users do.
engine_certs() {
    local dir="$STATE/engine-tls"
    [ -f "$dir/cert.pem" ] && return 0
    mkdir -p "$dir"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=hoist-test-ca" \
            -keyout ca-key.pem -out ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server-key.pem -out server.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -days 30 -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -extfile server.ext -out server-cert.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=client" -keyout key.pem -out client.csr 2>/dev/null
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        openssl x509 -req -days 30 -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -extfile client.ext -out cert.pem 2>/dev/null
    )
}

start_docker() {
    engine_certs
    local tls="$STATE/engine-tls"
    if docker version >/dev/null 2>&1; then
        if [ -f "$STATE/dockerd.pid" ] && ! curl -sk -o /dev/null "https://127.0.0.1:2376/_ping" \
            --cacert "$tls/ca.pem" --cert "$tls/cert.pem" --key "$tls/key.pem"; then
            # Ours, but from before the TLS endpoint: restart it with one.
            log "restarting dockerd with its TLS endpoint"
            stop_by_pid_file "$STATE/dockerd.pid" 100
        else
            return 0
        fi
    fi
    log "starting dockerd"
    # No bridge and no iptables: containers never get a private address and
    # the host's firewall is left alone; builds only need the loopback registries.
    nohup dockerd --bridge=none --iptables=false --ip-masq=false \
        -H unix:///var/run/docker.sock -H tcp://127.0.0.1:2376 \
        --tlsverify --tlscacert "$tls/ca.pem" --tlscert "$tls/server-cert.pem" --tlskey "$tls/server-key.pem" \
        >"$STATE/dockerd.log" 2>&1 &
    # stop-services.sh ends this daemon only, never one started by someone else.
    echo $! >"$STATE/dockerd.pid"
    for _ in $(seq 1 100); do
        docker version >/dev/null 2>&1 && return
        sleep 0.2
    done
    log "dockerd did not start; its log:"
    tail -20 "$STATE/dockerd.log" >&2
    exit 1
}

# Podman reads drop-ins beside its system configuration; these two are ours alone.
PODMAN_REGISTRIES=/etc/containers/registries.conf.d/50-hoist-test.conf
PODMAN_CONTAINERS=/etc/containers/containers.conf.d/50-hoist-test.conf

# Writes stdin to the file unless it holds that already; CONFIG_CHANGED=1 if not.
CONFIG_CHANGED=0
write_if_changed() { # file
    local text
    text=$(cat)
    if [ "$(cat "$1" 2>/dev/null)" != "$text" ]; then
        printf '%s\n' "$text" >"$1"
        CONFIG_CHANGED=1
    fi
}

configure_podman() {
    mkdir -p "$(dirname "$PODMAN_REGISTRIES")" "$(dirname "$PODMAN_CONTAINERS")"
    # The plain loopback registry speaks HTTP: Podman must be told, as dockerd
    # is by its default (127.0.0.0/8 is insecure there).
    write_if_changed "$PODMAN_REGISTRIES" <<'CONF'
# scripts/setup.sh (hoist's tests): the loopback test registry speaks plain HTTP.
[[registry]]
location = "127.0.0.1:5000"
insecure = true

[[registry]]
location = "localhost:5000"
insecure = true

# Podman's compat API qualifies short names with docker.io: nothing can be
# pulled here, so a missing base image fails at once instead of by a lookup.
[[registry]]
location = "docker.io"
blocked = true
CONF
    # No bridge, no CNI, no firewall rules: containers and build steps get no
    # network of their own (as under dockerd --bridge=none); the engine itself
    # still reaches the registries for pushes. `podman run` asks for rlimits
    # far above what a process may raise to on the test machines (runc then
    # fails with "error setting rlimit type 6/7"): the tests' containers need few.
    write_if_changed "$PODMAN_CONTAINERS" <<'CONF'
# scripts/setup.sh (hoist's tests): no container network, as the test dockerd.
[containers]
netns = "none"
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
CONF
}

podman_ping() {
    curl -s -o /dev/null --max-time 2 --unix-socket "$STATE/podman.sock" http://podman/_ping
}

# Podman's default storage is overlay (rootful, /var/lib/containers): it works
# wherever dockerd's overlay2 does, as on the test machines. Elsewhere say so.
podman_storage() {
    local info
    if ! info=$(podman info --format '{{.Store.GraphDriverName}}' 2>&1); then
        log "podman cannot open its storage: $info"
        log "(on a filesystem without overlay, set driver = \"vfs\" in /etc/containers/storage.conf)"
        exit 1
    fi
}

start_podman() {
    configure_podman
    if podman_ping; then
        # The service reads its configuration once: ours restarts to see a new one.
        [ "$CONFIG_CHANGED" = 1 ] && [ -f "$STATE/podman.pid" ] || return 0
        log "restarting podman system service for its new configuration"
        stop_by_pid_file "$STATE/podman.pid" 50
    fi
    podman_storage
    log "starting podman system service on $STATE/podman.sock"
    rm -f "$STATE/podman.sock"
    # At info the log has the reason of each refused request (Podman's error
    # answers often carry none) and a line per request.
    nohup podman --log-level=info system service --time=0 "unix://$STATE/podman.sock" >"$STATE/podman.log" 2>&1 &
    # stop-services.sh ends this service only.
    echo $! >"$STATE/podman.pid"
    for _ in $(seq 1 100); do
        podman_ping && return
        sleep 0.2
    done
    log "podman system service did not start; its log:"
    tail -20 "$STATE/podman.log" >&2
    exit 1
}

# A password whose base64 in the X-Registry-Auth header holds '+' and '/'
# (the URL-safe encoding matters); fixed so the credential tests are repeatable.
AUTH_USER=hoist
AUTH_PASSWORD='p>a?s~s>w?o~rd'

write_registry_config() { # name port [auth] [tls]
    local name=$1 port=$2 auth=${3:-} tls=${4:-}
    local dir="$STATE/registry-$name"
    mkdir -p "$dir/data"
    {
        echo "version: 0.1"
        echo "log: {level: warn}"
        echo "storage:"
        echo "  filesystem: {rootdirectory: $dir/data}"
        echo "  delete: {enabled: true}"
        echo "http:"
        echo "  addr: 127.0.0.1:$port"
        if [ -n "$tls" ]; then
            echo "  tls: {certificate: $STATE/tls/cert.pem, key: $STATE/tls/key.pem}"
        fi
        if [ -n "$auth" ]; then
            echo "auth:"
            echo "  htpasswd: {realm: hoist-test, path: $STATE/htpasswd}"
        fi
    } >"$dir/config.yml"
}

start_registry() { # name port scheme
    local name=$1 port=$2 scheme=$3
    if curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/"; then
        return
    fi
    log "starting registry $name on 127.0.0.1:$port"
    nohup docker-registry serve "$STATE/registry-$name/config.yml" >"$STATE/registry-$name.log" 2>&1 &
    echo $! >"$STATE/registry-$name.pid"
    for _ in $(seq 1 50); do
        curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/" && return
        sleep 0.1
    done
    log "registry $name did not start:"
    tail -20 "$STATE/registry-$name.log" >&2
    exit 1
}

start_registries() {
    htpasswd -Bbn "$AUTH_USER" "$AUTH_PASSWORD" >"$STATE/htpasswd"
    if [ ! -f "$STATE/tls/cert.pem" ]; then
        mkdir -p "$STATE/tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            -keyout "$STATE/tls/key.pem" -out "$STATE/tls/cert.pem" 2>/dev/null
    fi
    # The daemon trusts this CA for the TLS registry.
    mkdir -p /etc/docker/certs.d/127.0.0.1:5002
    cp "$STATE/tls/cert.pem" /etc/docker/certs.d/127.0.0.1:5002/ca.crt
    write_registry_config plain 5000
    write_registry_config auth 5001 auth
    write_registry_config tls 5002 auth tls
    start_registry plain 5000 http
    start_registry auth 5001 http
    start_registry tls 5002 https
}

# A root filesystem holding busybox and its applets, for `docker import`.
busybox_rootfs() { # dir
    local root=$1
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/usr/local/bin"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
}

# The Go toolchain image's root filesystem (Debian's golang-go on busybox).
golang_rootfs() { # dir
    local root=$1 goroot
    goroot=$(go env GOROOT)
    busybox_rootfs "$root"
    mkdir -p "$root/usr/lib" "$root/usr/share"
    # GOROOT's src, api, misc are symlinks into /usr/share: copy both trees.
    cp -a "$goroot" "$root/usr/lib/"
    cp -a "/usr/share/$(basename "$goroot")" "$root/usr/share/" 2>/dev/null || true
    # As the official golang images have them.
    mkdir -p "$root/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    # The toolchain is dynamically linked: bring its libraries.
    local libs
    libs=$(find "$goroot/bin" "$goroot/pkg/tool" -type f -perm -u+x -exec ldd {} + 2>/dev/null \
        | grep -o '/[^ ]*\.so[^ ]*' | sort -u || true)
    for lib in $libs; do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
}

# The base images for one engine's CLI (docker or podman, whose `import`
# takes the same flags); Podman stores them as localhost/hoist-test/...
make_base_images() { # engine
    local engine=$1 root quiet=()
    # podman import reports its copying on stderr; docker import has no such flag.
    [ "$engine" = podman ] && quiet=(--quiet)
    if ! "$engine" image inspect hoist-test/busybox:latest >/dev/null 2>&1; then
        log "making hoist-test/busybox:latest ($engine)"
        root="$STATE/rootfs-busybox"
        rm -rf "$root"
        busybox_rootfs "$root"
        tar -C "$root" -c . | "$engine" import "${quiet[@]}" --change 'ENV PATH=/usr/local/bin:/bin' --change 'CMD ["sh"]' - hoist-test/busybox:latest >/dev/null
    fi
    # The label tells an image made before it held CA certificates (which the
    # `hoist --init` Dockerfile copies into its final stage).
    if [ "$("$engine" image inspect --format '{{ index .Config.Labels "org.hoist.ca-certificates" }}' hoist-test/golang:local 2>/dev/null)" != 1 ]; then
        log "making hoist-test/golang:local from Debian's golang-go ($engine)"
        local goroot
        goroot=$(go env GOROOT)
        root="$STATE/rootfs-golang"
        rm -rf "$root"
        golang_rootfs "$root"
        tar -C "$root" -c . | "$engine" import "${quiet[@]}" \
            --change "ENV PATH=$goroot/bin:/usr/local/bin:/bin" \
            --change "ENV GOROOT=$goroot" --change 'ENV HOME=/tmp' --change 'ENV GOPATH=/tmp/go' \
            --change 'ENV GOCACHE=/tmp/go-cache' --change 'ENV GOPROXY=off' --change 'ENV GOFLAGS=-mod=mod' \
            --change 'ENV CGO_ENABLED=0' --change 'LABEL org.hoist.ca-certificates=1' \
            - hoist-test/golang:local >/dev/null
        rm -rf "$root"
    fi
}

write_env() {
    cat >"$STATE/env" <<ENV
export HOIST_STATE_DIR=$STATE
export HOIST_TEST_REGISTRY=127.0.0.1:5000
export HOIST_TEST_AUTH_REGISTRY=127.0.0.1:5001
export HOIST_TEST_TLS_REGISTRY=127.0.0.1:5002
export HOIST_TEST_AUTH_USER=$AUTH_USER
export HOIST_TEST_AUTH_PASSWORD='$AUTH_PASSWORD'
export HOIST_TEST_ENGINE_TLS_HOST=tcp://127.0.0.1:2376
export HOIST_TEST_ENGINE_TLS_CERTS=$STATE/engine-tls
export HOIST_PODMAN_HOST=unix://$STATE/podman.sock
ENV
}

start=$(date +%s)
install_packages
check_rust
start_docker
start_podman
start_registries
make_base_images docker
make_base_images podman
write_env
log "ready in $(($(date +%s) - start)) s (state in $STATE)"
