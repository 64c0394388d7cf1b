#!/usr/bin/env bash
# Records what the real docker CLI sends as the build context for each case
# under tests/fixtures/dockerignore/<case>/ (tree.txt + dockerignore), into
# expected.txt next to them: the sorted tar entry names, directories ending
# in `/`.
#
# The CLI talks to a tiny recording daemon on a unix socket (classic
# builder, DOCKER_BUILDKIT=0) that saves the POST /build body; the context
# tar is exactly what hoist's stream_context must reproduce. (The real
# daemon would additionally drop an excluded Dockerfile/.dockerignore after
# reading them, which is its business, not the sender's.)
#
# An optional `dockerfile` file names the Dockerfile (default `Dockerfile`).
# tree.txt: one path a line; a trailing `/` makes an (empty) directory,
# `name -> target` a symlink, anything else a file whose content is its path.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=tests/fixtures/dockerignore
work=$(mktemp -d)
trap 'kill "${fake_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

cat >"$work/fake_daemon.py" <<'PY'
import http.server, socketserver, sys, os
sock, out = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, body=b"OK", ctype="text/plain"):
        self.send_response(200)
        self.send_header("Api-Version", "1.41")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    def do_HEAD(self): self.reply()
    def do_GET(self): self.reply()
    def do_POST(self):
        data = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if "/build" in self.path:
            with open(out, "wb") as f:
                f.write(data)
        self.reply(b'{"stream":"recorded\\n"}\n', "application/json")
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
if os.path.exists(sock): os.unlink(sock)
S(sock, H).serve_forever()
PY
python3 "$work/fake_daemon.py" "$work/docker.sock" "$work/context.tar" &
fake_pid=$!
for _ in $(seq 50); do [ -S "$work/docker.sock" ] && break; sleep 0.1; done

for case_dir in "$cases"/*/; do
    name=$(basename "$case_dir")
    ctx="$work/ctx-$name"
    mkdir -p "$ctx"
    while IFS= read -r line || [ -n "$line" ]; do
        [ -z "$line" ] && continue
        if [[ "$line" == *" -> "* ]]; then
            link=${line%% -> *}
            mkdir -p "$ctx/$(dirname "$link")"
            ln -s "${line#* -> }" "$ctx/$link"
        elif [[ "$line" == */ ]]; then
            mkdir -p "$ctx/$line"
        else
            mkdir -p "$ctx/$(dirname "$line")"
            printf '%s\n' "$line" >"$ctx/$line"
        fi
    done <"$case_dir/tree.txt"
    cp "$case_dir/dockerignore" "$ctx/.dockerignore"
    dockerfile=Dockerfile
    [ -f "$case_dir/dockerfile" ] && dockerfile=$(cat "$case_dir/dockerfile")
    rm -f "$work/context.tar"
    DOCKER_BUILDKIT=0 DOCKER_HOST="unix://$work/docker.sock" \
        docker build -q -f "$ctx/$dockerfile" "$ctx" >/dev/null 2>&1 || true
    if [ ! -s "$work/context.tar" ]; then
        echo "case $name: the CLI sent no context" >&2
        exit 1
    fi
    tar -tf "$work/context.tar" | LC_ALL=C sort >"$case_dir/expected.txt"
    echo "recorded $name ($(wc -l <"$case_dir/expected.txt") entries)"
done
