#!/usr/bin/env bash
# Regenerates src/gotmpl/testdata/cases.jsonl: runs every case of
# testdata/cases.txt through the real go-task and records what it printed.
#
#   bash src/gotmpl/record_cases.sh            # all cases
#   TASK_BIN=/path/to/task bash src/gotmpl/record_cases.sh
#
# Each case becomes one Taskfile with the variables of testdata/vars.yml and
# the template as the whole value of an environment variable, which go-task
# renders (with the same data as commands) and the command prints:
#     env: {HOIST_OUT: <template>}
#     cmds: [printf '%s' "$HOIST_OUT"]
# so positions in error messages are the template's own. The recorded output
# is stdout, or go-task's error message when the template fails.
# The unit tests (cargo test --lib gotmpl) replay the file; they do not need
# go-task.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${TASK_BIN:-}" ]; then
  # A pyenv shim re-enters pyenv on every call; use the binary behind it.
  if command -v pyenv >/dev/null 2>&1 && pyenv which task >/dev/null 2>&1; then
    TASK_BIN=$(pyenv which task)
  else
    TASK_BIN=$(command -v task || true)
  fi
fi
if [ -z "$TASK_BIN" ]; then
  echo "record_cases.sh: no go-task binary; install it (python3 -m pip install go-task-bin) or set TASK_BIN" >&2
  exit 1
fi

export TASK_BIN HERE="$here"
exec python3 - "$@" <<'PY'
import json, os, re, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor

here = os.environ["HERE"]
task = os.environ["TASK_BIN"]
version = subprocess.run([task, "--version"], capture_output=True, text=True).stdout.strip()
if "3.54" not in version:
    print(f"record_cases.sh: expected go-task 3.54, found {version!r}", file=sys.stderr)
    sys.exit(1)

def read_cases(path):
    cases, name, lines = [], None, []
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.startswith("== "):
            if name is not None:
                cases.append((name, "\n".join(lines).rstrip("\n")))
            name, lines = line[3:].strip(), []
        elif name is not None:
            lines.append(line)
        # lines before the first case are comments
    if name is not None:
        cases.append((name, "\n".join(lines).rstrip("\n")))
    return cases

cases = read_cases(os.path.join(here, "testdata", "cases.txt"))
names = [n for n, _ in cases]
dups = {n for n in names if names.count(n) > 1}
if dups:
    sys.exit(f"duplicate case names: {sorted(dups)}")
vars_yml = open(os.path.join(here, "testdata", "vars.yml"), encoding="utf-8").read()
vars_block = "".join("  " + l + "\n" for l in vars_yml.splitlines() if l.strip() and not l.startswith("#"))

env = dict(os.environ, TZ="UTC", HOIST_T="hello", NO_COLOR="1")
env.pop("TASK_X_ENV_PRECEDENCE", None)

def run(case):
    name, tmpl = case
    # A JSON string is a valid YAML double-quoted scalar.
    taskfile = (
        "version: '3'\n"
        "vars:\n" + vars_block +
        "tasks:\n"
        "  default:\n"
        "    silent: true\n"
        "    env:\n"
        "      HOIST_OUT: " + json.dumps(tmpl, ensure_ascii=False) + "\n"
        "    cmds:\n"
        "      - printf '%s' \"$HOIST_OUT\"\n"
    )
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "Taskfile.yml"), "w", encoding="utf-8").write(taskfile)
        p = subprocess.run([task, "--taskfile", os.path.join(d, "Taskfile.yml"), "--dir", d],
                           capture_output=True, env=env, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace").strip()
    rec = {"name": name, "tmpl": tmpl}
    if p.returncode == 0:
        rec["out"] = out
    else:
        if not err.startswith("template: "):
            rec["task_error"] = err
        rec["err"] = err
    return rec

with ThreadPoolExecutor(max_workers=int(os.environ.get("JOBS", "2"))) as ex:
    recs = list(ex.map(run, cases))

path = os.path.join(here, "testdata", "cases.jsonl")
with open(path, "w", encoding="utf-8") as f:
    f.write(json.dumps({"recorded_with": version}) + "\n")
    for r in recs:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
odd = [r["name"] for r in recs if "task_error" in r]
print(f"recorded {len(recs)} cases with {version} into {path}")
if odd:
    print("cases where go-task failed outside the template (check them):", ", ".join(odd))
PY
