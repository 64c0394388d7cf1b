#!/usr/bin/env python3
"""hoist's go-task mode against the real go-task over a folder of Taskfiles.

    python3 scripts/compare-taskfiles.py DIR [--hoist BINARY] [--task BINARY]

DIR holds one sub-folder per Taskfile (Taskfiles gathered from public
projects, say; they are not kept in this repository). In each, both tools
run `--list-all`, `--list --json` and, for every task, `--summary TASK`
and `--dry TASK`; the script compares stdout and exit status, and for dry
runs also the commands each tool says it would run (go-task's
`task: [name] cmd` lines against hoist's `hoist: [name] cmd`). Dry runs
are skipped for files with `sh:` variables (both tools would run them).
Prints one line per difference and a summary; exits 1 when any differ.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, args, cwd, home):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "NO_COLOR": "1"}
    try:
        p = subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True, text=True,
                           timeout=20, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", "timeout"


def dry_lines(stderr, prefix):
    out = []
    for line in stderr.splitlines():
        if line.startswith(prefix + " ["):
            out.append(line[len(prefix) + 1:].rstrip())
    return sorted(out)


def compare_dir(path, hoist, task):
    """Differences for one Taskfile folder, as (what, detail) pairs."""
    diffs, checks = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        work = os.path.join(tmp, "w")
        shutil.copytree(path, work, symlinks=True)
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        text = ""
        for folder, _, names_here in os.walk(work):
            for f in names_here:
                if f.endswith((".yml", ".yaml")):
                    text += open(os.path.join(folder, f), errors="replace").read()
        names = []
        for args in (["--list-all"], ["--list", "--json"]):
            checks += 1
            want, got = run(task, args, work, home), run(hoist, args, work, home)
            if (want[0], want[1]) != (got[0], got[1]):
                diffs.append((" ".join(args), f"go-task {want[0]} / hoist {got[0]}\n--- go-task\n{want[1]}{want[2]}--- hoist\n{got[1]}{got[2]}"))
        code, out, _ = run(task, ["--list-all", "--json"], work, home)
        if code == 0:
            names = [t["name"] for t in json.loads(out).get("tasks", [])]
        has_sh = re.search(r"^\s*sh:", text, re.M) is not None
        for name in names:
            checks += 1
            want, got = run(task, ["--summary", name], work, home), run(hoist, ["--summary", name], work, home)
            if (want[0], want[1]) != (got[0], got[1]):
                diffs.append((f"--summary {name}", f"go-task {want[0]} / hoist {got[0]}\n--- go-task\n{want[1]}{want[2]}--- hoist\n{got[1]}{got[2]}"))
            if has_sh:
                continue
            checks += 1
            # Each in a fresh copy (go-task writes .task/ even for listings),
            # at the same path (commands may show it).
            fresh = os.path.join(tmp, "dry")
            results = []
            for tool in (task, hoist):
                shutil.rmtree(fresh, ignore_errors=True)
                shutil.copytree(path, fresh, symlinks=True)
                results.append(run(tool, ["--dry", name], fresh, home))
            want, got = results
            wl, gl = dry_lines(want[2], "task:"), dry_lines(got[2], "hoist:")
            if (want[0], want[1], wl) != (got[0], got[1], gl):
                diffs.append((f"--dry {name}", f"go-task {want[0]} / hoist {got[0]}\n--- go-task\n" + "\n".join(wl)
                              + f"\n{want[2] if want[0] else ''}--- hoist\n" + "\n".join(gl) + f"\n{got[2] if got[0] else ''}"))
    return diffs, checks


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir")
    parser.add_argument("--hoist", default=os.path.join(ROOT, "target", "debug", "hoist"))
    parser.add_argument("--task", default=shutil.which("task") or "task")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each difference in full")
    args = parser.parse_args()
    total_checks = total_diffs = 0
    clean = 0
    folders = sorted(d for d in os.listdir(args.dir) if os.path.isdir(os.path.join(args.dir, d)))
    for d in folders:
        diffs, checks = compare_dir(os.path.join(args.dir, d), args.hoist, args.task)
        total_checks += checks
        total_diffs += len(diffs)
        clean += not diffs
        for what, detail in diffs:
            print(f"DIFF {d}: {what}")
            if args.verbose:
                print("    " + detail.replace("\n", "\n    "))
    print(f"{len(folders)} Taskfiles, {clean} with no difference; {total_checks - total_diffs} of {total_checks} checks the same")
    sys.exit(1 if total_diffs else 0)


if __name__ == "__main__":
    main()
