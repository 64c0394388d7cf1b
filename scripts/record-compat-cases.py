#!/usr/bin/env python3
"""Records go-task's stdout and exit status for the compatibility cases.

Each case is a directory tests/compat/cases/<feature>/<name>/ holding a
Taskfile (and whatever other files it needs) and a case.json that lists the
invocations to run, in order, in one fresh copy of the directory:

    {
      "about": "what the case shows",
      "runs": [
        {"args": ["build"], "env": {"X": "1"}, "cwd": "sub", "before": "touch a.txt",
         "sort_stdout": true, "normalize": ["os", "arch", "ncpu"],
         "stdout": ["line 1", "line 2", ""], "status": 0}
      ]
    }

Authored keys: args, env (added to a clean environment: PATH, HOME, NO_COLOR=1), cwd (a
subdirectory of the copy), before (a sh command run in the copy's root first),
sort_stdout (go-task's order is not deterministic: compare sorted lines),
normalize (machine-specific values to replace by placeholders). Recorded keys:
stdout (the text split on "\\n", so joining with "\\n" gives it back exactly)
and status. The copy's root prints as {{ROOT}}, HOME as {{HOME}}. stderr is
kept for reference only, in stderr.txt beside case.json.

The Rust test tests/compat.rs runs the same invocations the same way, over go-task
(to check these recordings) and over hoist.

Usage: scripts/record-compat-cases.py [--check] [SUBSTRING...]
  SUBSTRING limits the run to cases whose <feature>/<name> contains one of them.
  --check records nothing and lists the cases whose recording differs.
The go-task binary: $GO_TASK, else `task` on PATH (a pyenv shim is resolved).
"""
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "tests", "compat", "cases")
NOT_COPIED = {"case.json", "stderr.txt"}
TIMEOUT = 30
STDERR_KEPT = 4000


def find_task():
    exe = os.environ.get("GO_TASK") or shutil.which("task")
    if not exe:
        sys.exit("go-task not found: pip install go-task-bin, or set GO_TASK")
    if "/shims/" in exe:
        out = subprocess.run(["pyenv", "which", "task"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            exe = out.stdout.strip()
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    if "3.54" not in version:
        sys.exit(f"{exe} is go-task {version.strip()!r}, the cases are recorded from 3.54")
    return exe


def go_os_arch():
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), platform.machine()
    )
    return platform.system().lower(), arch


def normalize(text, root, home, which):
    text = text.replace(root, "{{ROOT}}").replace(home, "{{HOME}}")
    goos, goarch = go_os_arch()
    for name, value in (("os", goos), ("arch", goarch), ("ncpu", str(len(os.sched_getaffinity(0))))):
        if name in which:
            text = re.sub(r"(?<![A-Za-z0-9_])" + re.escape(value) + r"(?![A-Za-z0-9_])",
                          "{{" + name.upper() + "}}", text)
    return text


def run_case(task, rel):
    src = os.path.join(CASES, rel)
    with open(os.path.join(src, "case.json")) as f:
        case = json.load(f)
    tmp = os.path.realpath(tempfile.mkdtemp(prefix="compat-"))
    try:
        root, home = os.path.join(tmp, "case"), os.path.join(tmp, "home")
        shutil.copytree(src, root, ignore=lambda d, names: [n for n in names if d == src and n in NOT_COPIED], symlinks=True)
        os.mkdir(home)
        stderr_log = []
        for i, run in enumerate(case["runs"], 1):
            env = {"PATH": os.environ["PATH"], "HOME": home, "NO_COLOR": "1"}
            env.update(run.get("env", {}))
            if run.get("before"):
                subprocess.run(["sh", "-c", run["before"]], cwd=root, env=env, check=True)
            cwd = os.path.join(root, run.get("cwd", ""))
            # Its own process group, so that a timeout ends what it started too.
            p = subprocess.Popen([task] + run.get("args", []), cwd=cwd, env=env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, preexec_fn=os.setpgrp)
            try:
                out, err = p.communicate(timeout=TIMEOUT)
                status = p.returncode
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, err = p.communicate()
                err += b"\n<timeout>"
                status = -1
            which = run.get("normalize", [])
            out = normalize(out.decode("utf-8", "replace"), root, home, which)
            err = re.sub(r"\x1b\[[0-9;]*m", "", err.decode("utf-8", "replace"))
            err = normalize(err, root, home, which)
            run["stdout"], run["status"] = out.split("\n"), status
            if len(err) > STDERR_KEPT:
                err = err[:STDERR_KEPT] + "\n<cut>\n"
            stderr_log.append(f"## run {i}: task {' '.join(run.get('args', []))} -> {status}\n{err}")
        return case, "\n".join(stderr_log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def all_cases():
    found = []
    for feature in sorted(os.listdir(CASES)):
        fdir = os.path.join(CASES, feature)
        for name in sorted(os.listdir(fdir)):
            if os.path.exists(os.path.join(fdir, name, "case.json")):
                found.append(f"{feature}/{name}")
    return found


def main():
    args = sys.argv[1:]
    check = "--check" in args
    filters = [a for a in args if a != "--check"]
    task = find_task()
    cases = [c for c in all_cases() if not filters or any(f in c for f in filters)]

    def one(rel):
        path = os.path.join(CASES, rel, "case.json")
        with open(path) as f:
            old_text = f.read()
        old_runs = json.loads(old_text)["runs"]
        case, stderr = run_case(task, rel)
        # Where the order is not deterministic, an old recording in another
        # order stays, so that re-recording does not churn.
        for old, new in zip(old_runs, case["runs"]):
            if (new.get("sort_stdout") and old.get("status") == new["status"]
                    and sorted(old.get("stdout") or []) == sorted(new["stdout"])):
                new["stdout"] = old["stdout"]
        text = json.dumps(case, indent=2, ensure_ascii=False) + "\n"
        same = old_text == text
        if not check:
            with open(path, "w") as f:
                f.write(text)
            err_path = os.path.join(CASES, rel, "stderr.txt")
            old_err = open(err_path).read() if os.path.exists(err_path) else ""
            if sorted(old_err.split("\n")) != sorted(stderr.split("\n")):
                with open(err_path, "w") as f:
                    f.write(stderr)
        return rel, same

    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        results = list(pool.map(one, cases))
    changed = [rel for rel, same in results if not same]
    for rel in changed:
        print(("differs: " if check else "updated: ") + rel)
    print(f"{len(cases)} cases, {len(changed)} {'differ' if check else 'changed'}")
    sys.exit(1 if check and changed else 0)


if __name__ == "__main__":
    main()
