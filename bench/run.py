#!/usr/bin/env python3
"""hoist vs go-task, just and the docker CLI, in the same run.

Times whole commands with hyperfine (median of rounds in which the tools take
turns, rounds a second apart, as a user runs them) and measures peak memory
with /usr/bin/time -v, then prints one table with ratios against
hoist. Results also go to bench/results/ as JSON and Markdown.

    python3 bench/run.py                 # all cases that need no Docker engine
    python3 bench/run.py --docker        # plus the warm image pipeline
    python3 bench/run.py --context       # plus the 1 GiB context upload (slow, ~3 GB disk)

The binaries: target/release/hoist (built here, in $CARGO_TARGET_DIR when set;
`--hoist BINARY` times another build instead), go-task's Go binary itself
(from the go-task-bin wheel, not a shell shim), just (rust-just wheel).
"""

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
HOIST = None  # set by main(): the release binary cargo builds, or --hoist
OTHER_HOISTS = {}  # --also LABEL=BINARY: other hoist builds in the pipeline cases' rounds
EXAMPLE = os.path.join(ROOT, "examples", "hbaas")
ROUNDS = 30  # per case unless it says otherwise; --rounds changes it
GAP = 1.0  # seconds between the starts of two rounds


def target_dir():
    """Where cargo puts target/ (CARGO_TARGET_DIR or build.target-dir move it)."""
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["target_directory"]


def tool(name):
    """The real binary: pip puts wheels' binaries in the scripts dir; pyenv's shims are shell scripts."""
    candidate = os.path.join(sysconfig.get_path("scripts"), name)
    if os.path.isfile(candidate):
        return candidate
    found = shutil.which(name)
    if found is None:
        sys.exit(f"bench: `{name}` not found; run `pip install go-task-bin rust-just`")
    return found


TASK = tool("task")
JUST = tool("just")


def hyperfine_once(command, cwd, prepare=None, ignore_failure=False):
    """Seconds for one run of command, timed by hyperfine (no shell, no warm-up)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = ["hyperfine", "-N", "--runs", "1", "--warmup", "0", "--style", "none",
                "--export-json", out.name]
        if ignore_failure:
            args.append("-i")
        if prepare:
            args += ["--prepare", prepare]
        proc = subprocess.run(args + [command], cwd=cwd, capture_output=True, text=True)
        if proc.returncode != 0:
            return None, proc.stderr[-2000:]
        return json.load(open(out.name))["results"][0]["times"][0], None


def hyperfine(name, commands, cwd, runs=None, warmup=1, prepare=None, ignore_failure=False):
    """Median seconds per command label, or None when a command failed.

    The tools take turns, one run each per round, and rounds start at least
    GAP seconds apart: as a user meets them, seconds apart and never all
    inside one clock second, so no tool profits from caches, CPU frequency or
    timestamps that a tight loop would keep warm. The rounds go through every
    order of the tools in turn, so that each tool runs first (after the gap)
    and right after each other tool equally often: a run right after
    go-task's 80 ms finds the CPU still awake and is ~10% faster than one
    after the gap, which a plain rotation gave to one tool in two rounds of
    three. Every run's time goes to bench/results/NAME.json."""
    rounds = runs or ROUNDS
    labels = list(commands)
    orders = list(itertools.permutations(labels))
    times = {label: [] for label in labels}
    failed = {}
    for _ in range(warmup):
        for label in labels:
            if prepare:  # a warm-up round is a round: the cold case prunes first
                subprocess.run(prepare, shell=True, cwd=cwd, capture_output=True)
            subprocess.run(commands[label], shell=True, cwd=cwd, capture_output=True)
    for round in range(rounds):
        started = time.monotonic()
        order = orders[round % len(orders)]
        for label in order:
            if label in failed:
                continue
            seconds, error = hyperfine_once(commands[label], cwd, prepare, ignore_failure)
            if seconds is None:
                failed[label] = error
                print(f"bench: {name}: {label} failed:\n{error}", file=sys.stderr)
            else:
                times[label].append(seconds)
        time.sleep(max(0.0, GAP - (time.monotonic() - started)))
    with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
        json.dump({"rounds": rounds, "gap_seconds": GAP,
                   "results": [{"command": label, "shell": commands[label], "times": times[label],
                                "median": None if label in failed else statistics.median(times[label])}
                               for label in labels]}, f, indent=1)
    return {label: None if label in failed else statistics.median(times[label]) for label in labels}


def peak_rss_mib(command, cwd, runs=3, prepare=None):
    """Median peak resident memory over a few runs, by /usr/bin/time -v
    (each after `prepare`, as the timed runs)."""
    peaks = []
    for _ in range(runs):
        if prepare:
            subprocess.run(prepare, shell=True, cwd=cwd, capture_output=True)
        proc = subprocess.run(["/usr/bin/time", "-v", "sh", "-c", f"exec {command} >/dev/null 2>&1"],
                              cwd=cwd, capture_output=True, text=True)
        for line in proc.stderr.splitlines():
            if "Maximum resident set size" in line:
                peaks.append(int(line.split(":")[1]) / 1024)
    return statistics.median(peaks) if peaks else None


TABLE = []


def evict(binary):
    """Drop the binary's pages from the page cache, so that every tool's code is
    read back the same way, as after a reboot (by page faults on its mapping).
    How a file got into the cache changes its start-up: a copy just written
    with write() (cp, pip install) needs fewer page faults (larger page-cache
    folios, presumably) and starts ~15% faster than the same bytes written
    through mmap (the linker) or read back by faults. Without this, a fresh
    build of hoist would race an installed copy of just with a handicap."""
    if not hasattr(os, "posix_fadvise"):
        return
    fd = os.open(binary, os.O_RDONLY)
    try:
        os.fsync(fd)  # dirty pages cannot be dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def record(case, commands, cwd, **kw):
    for binary in (HOIST, TASK, JUST, *OTHER_HOISTS.values()):
        evict(binary)
    medians = hyperfine(case.replace(" ", "_").replace("/", "_"), commands, cwd, **kw)
    base = medians.get("hoist")
    for label, command in commands.items():
        median = medians.get(label)
        rss = peak_rss_mib(command, cwd, prepare=kw.get("prepare"))
        ratio = (median / base) if (median and base) else None
        TABLE.append((case, label, median, rss, ratio))
    return medians


def fmt(value, spec, missing="failed"):
    return missing if value is None else format(value, spec)


def print_table(name="table.md"):
    lines = ["| case | tool | median ms | peak RSS MiB | time vs hoist |", "|---|---|---:|---:|---:|"]
    for case, label, median, rss, ratio in TABLE:
        lines.append(f"| {case} | {label} | {fmt(median and median * 1000, '.1f')} | {fmt(rss, '.1f')} | "
                     f"{fmt(ratio, '.2f')}x |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(RESULTS, name), "w") as f:
        f.write(text + "\n")


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
                   cwd=cwd, check=True, capture_output=True)


def example_copy(tmp, name):
    """The example in a git repo of its own, so VERSION and GIT_BRANCH are stable."""
    dest = os.path.join(tmp, name)
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("hbaas-server", ".hoist", ".task"))
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", ".")
    git(dest, "commit", "-qm", "bench")
    git(dest, "tag", "v1.0.0")
    return dest


def pipeline_cases(tmp):
    cwd = example_copy(tmp, "hbaas-list")
    others = lambda args: {label: f"{binary} {args}" for label, binary in OTHER_HOISTS.items()}
    record("--list", {
        "hoist": f"{HOIST} --list",
        **others("--list"),
        "go-task": f"{TASK} --list-all",
        "just": f"{JUST} --list",
    }, cwd)
    record("dry upload-image", {
        "hoist": f"{HOIST} --dry upload-image",
        **others("--dry upload-image"),
        "go-task": f"{TASK} --dry upload-image",
        "just": f"{JUST} --dry-run upload-image",
    }, cwd)


def compat_cases(tmp):
    """The founding tutorial's Taskfile (examples/tutorial, beside the Go
    service of examples/hbaas without its hoist.yml), run by hoist's
    go-task mode and by go-task itself. Its tasks have no descriptions, so
    `--list` exits 1 with a message for both tools (timed all the same)."""
    cwd = os.path.join(tmp, "tutorial")
    shutil.copytree(EXAMPLE, cwd, ignore=shutil.ignore_patterns("hbaas-server", ".hoist", ".task", "hoist.yml"))
    shutil.copy(os.path.join(ROOT, "examples", "tutorial", "Taskfile.yml"), cwd)
    git(cwd, "init", "-q", "-b", "main")
    git(cwd, "add", ".")
    git(cwd, "commit", "-qm", "bench")
    git(cwd, "tag", "v1.0.0")
    record("Taskfile --list", {
        "hoist": f"{HOIST} --list",
        "go-task": f"{TASK} --list",
    }, cwd, ignore_failure=True)
    record("Taskfile --dry upload-image", {
        "hoist": f"{HOIST} --dry upload-image",
        "go-task": f"{TASK} --dry upload-image",
    }, cwd)


def generate(dir, n, shape):
    """hoist.yml, Taskfile.yml and justfile with n tasks: a chain or a fan-out under `top`."""
    os.makedirs(dir, exist_ok=True)
    names = [f"t{i}" for i in range(n)]
    hoist = ["tasks:"]
    task = ["version: '3'", "tasks:"]
    just = []
    if shape == "chain":
        for i, name in enumerate(names):
            dep = names[i + 1] if i + 1 < n else None
            hoist += [f"  {name}:", f"    deps: [{dep}]" if dep else "", f"    cmds: [echo {name}]"]
            task += [f"  {name}:", f"    deps: [{dep}]" if dep else "", f"    cmds: [echo {name}]"]
            just += [f"{name}:{' ' + dep if dep else ''}", f"    echo {name}", ""]
        top = names[0]
    else:
        top = "top"
        deps = ", ".join(names)
        hoist += [f"  top:", f"    deps: [{deps}]", "    cmds: [echo top]"]
        task += [f"  top:", f"    deps: [{deps}]", "    cmds: [echo top]"]
        just += [f"top: {' '.join(names)}", "    echo top", ""]
        for name in names:
            hoist += [f"  {name}: echo {name}"]
            task += [f"  {name}:", f"    cmds: [echo {name}]"]
            just += [f"{name}:", f"    echo {name}", ""]
    for file, lines in (("hoist.yml", hoist), ("Taskfile.yml", task), ("justfile", just)):
        with open(os.path.join(dir, file), "w") as f:
            f.write("\n".join(l for l in lines if l != "" or file == "justfile") + "\n")
    return top


def scale_cases(tmp):
    for shape in ("chain", "fan-out"):
        for n in (10, 100, 1000):
            dir = os.path.join(tmp, f"{shape}-{n}")
            top = generate(dir, n, shape)
            record(f"dry {shape} {n} tasks", {
                "hoist": f"{HOIST} --dry {top}",
                "go-task": f"{TASK} --dry {top}",
                "just": f"{JUST} --dry-run {top}",
            }, dir, warmup=1, runs=10)


def uptodate_case(tmp):
    dir = os.path.join(tmp, "sources")
    for d in range(100):
        os.makedirs(os.path.join(dir, f"pkg{d}"))
        for f in range(100):
            with open(os.path.join(dir, f"pkg{d}", f"f{f}.go"), "w") as out:
                out.write(f"package pkg{d}\n\n// file {f}\n" + "var x = 1\n" * 20)
    with open(os.path.join(dir, "hoist.yml"), "w") as f:
        f.write('tasks:\n  build:\n    sources: ["**/*.go"]\n    generates: [out.bin]\n    cmds: [touch out.bin]\n')
    with open(os.path.join(dir, "Taskfile.yml"), "w") as f:
        f.write("version: '3'\ntasks:\n  build:\n    method: checksum\n    sources: ['**/*.go']\n"
                "    generates: [out.bin]\n    cmds: [touch out.bin]\n")
    # Let the files age past the racy window of hoist's cache, then warm both tools.
    time.sleep(2.5)
    for command in (f"{HOIST} build", f"{HOIST} build", f"{TASK} build", f"{TASK} build"):
        subprocess.run(command, shell=True, cwd=dir, capture_output=True)
    record("up-to-date 10,000 sources", {
        "hoist": f"{HOIST} -s build",
        "go-task": f"{TASK} -s build",
    }, dir)


def docker_cases(tmp):
    cwd = example_copy(tmp, "hbaas-docker")
    env = dict(os.environ, REGISTRY="127.0.0.1:5000")
    os.environ["REGISTRY"] = "127.0.0.1:5000"
    # Warm: everything built and pushed once by each tool.
    subprocess.run(f"{HOIST} -s upload-image", shell=True, cwd=cwd, env=env, check=True, capture_output=True)
    subprocess.run(f"{TASK} -s upload-image", shell=True, cwd=cwd, env=env, check=True, capture_output=True)
    record("warm pipeline upload-image", {
        "hoist": f"{HOIST} -s upload-image",
        "go-task + docker CLI": f"{TASK} -s upload-image",
    }, cwd, warmup=1, runs=5)


def context_case(tmp):
    """1 GiB in 50,000 files; .dockerignore keeps out a 40,000-file directory."""
    dir = os.path.join(tmp, "context")
    chunk = os.urandom(1 << 20)
    for i in range(10_000):
        sub = os.path.join(dir, "src", f"d{i // 500}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{i}.bin"), "wb") as f:
            f.write(chunk[: (100 * 1024) + (i % 7)])  # ~1 GiB sent in 10,000 files
    for i in range(40_000):
        sub = os.path.join(dir, "node_modules", f"d{i // 1000}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"m{i}.js"), "wb") as f:
            f.write(b"module.exports = 1;\n")
    with open(os.path.join(dir, ".dockerignore"), "w") as f:
        f.write("node_modules\n")
    with open(os.path.join(dir, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nLABEL context=bench\n")
    with open(os.path.join(dir, "hoist.yml"), "w") as f:
        f.write("tasks:\n  image:\n    cmds:\n      - build: {image: hoist-bench-context, no_cache: true, "
                "builder: classic}\n")
    env = "DOCKER_BUILDKIT=0"
    record("context upload 1 GiB", {
        "hoist": f"{HOIST} -s image",
        "docker CLI (classic)": f"env {env} docker build -q --no-cache -t hoist-bench-context .",
    }, dir, warmup=1, runs=3)
    with open(os.path.join(dir, "buildkit.yml"), "w") as f:
        f.write("tasks:\n  image:\n    cmds:\n      - build: {image: hoist-bench-context, no_cache: true, "
                "builder: buildkit}\n")
    record("context 1 GiB, BuildKit", {
        "hoist": f"{HOIST} -s -t buildkit.yml image",
        "docker CLI (BuildKit)": f"env DOCKER_BUILDKIT=1 {DEBIAN_DOCKER} build -q --no-cache "
                                 "-t hoist-bench-context .",
    }, dir, warmup=1, runs=3)


# Debian's docker CLI (package docker.io, 20.10) builds with BuildKit itself;
# a newer CLI earlier on PATH would need buildx for that.
DEBIAN_DOCKER = "/usr/bin/docker"


def buildkit_cases(tmp):
    """The example's image with BuildKit: hoist's build step against
    `DOCKER_BUILDKIT=1 docker build` (both with network none: no bridge here)."""
    cwd = example_copy(tmp, "hbaas-buildkit")
    with open(os.path.join(cwd, "bench.yml"), "w") as f:
        f.write("tasks:\n  image:\n    cmds:\n      - build: {image: hoist-bench-bk, target: runner, "
                "builder: buildkit, args: {version: 1.0.0}}\n")
    cli = (f"env DOCKER_BUILDKIT=1 {DEBIAN_DOCKER} build -q --network none --target runner "
           "--build-arg version=1.0.0 -t hoist-bench-bk-cli .")
    commands = {"hoist": f"{HOIST} -s -t bench.yml image", "docker CLI (BuildKit)": cli}
    # A build takes 5-7 s from one round to the next (the engine's go build), so
    # more rounds than elsewhere; the warm-up round takes the first prune of a
    # large builder cache (the build after it once took 30 s).
    record("BuildKit cold build (cache pruned)", commands, cwd, warmup=1, runs=9,
           prepare="docker builder prune -af")
    # A new line in a Go file: the module layer stays cached, the build reruns.
    record("BuildKit rebuild after a Go edit", commands, cwd, warmup=1, runs=15,
           prepare="sh -c 'echo \"// $(date +%s%N)\" >> main.go'")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docker", action="store_true", help="also the warm image pipeline (needs scripts/setup.sh)")
    parser.add_argument("--context", action="store_true", help="also the 1 GiB context upload")
    parser.add_argument("--buildkit", action="store_true",
                        help="also BuildKit builds of the example against the docker CLI's")
    parser.add_argument("--hoist", metavar="BINARY",
                        help="time this hoist binary instead of building target/release/hoist")
    parser.add_argument("--also", metavar="LABEL=BINARY", action="append", default=[],
                        help="another hoist build to take turns with in the pipeline cases "
                             "(to compare two builds in the same rounds)")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help=f"rounds per quick case (default {ROUNDS}; each tool runs once per round)")
    parser.add_argument("--only", choices=["pipeline", "compat", "scale", "uptodate", "docker", "buildkit", "context"],
                        help="run just this group of cases")
    args = parser.parse_args()
    globals()["ROUNDS"] = args.rounds
    os.makedirs(RESULTS, exist_ok=True)
    global HOIST
    if args.hoist:
        HOIST = os.path.abspath(args.hoist)
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        HOIST = os.path.join(target_dir(), "release", "hoist")
    for pair in args.also:
        label, _, binary = pair.partition("=")
        OTHER_HOISTS[label] = os.path.abspath(binary)
    with tempfile.TemporaryDirectory(prefix="hoist-bench-") as tmp:
        groups = {"pipeline": pipeline_cases, "compat": compat_cases, "scale": scale_cases,
                  "uptodate": uptodate_case,
                  "docker": docker_cases, "buildkit": buildkit_cases, "context": context_case}
        for name, run in groups.items():
            wanted = args.only == name if args.only else (
                name not in ("docker", "buildkit", "context") or getattr(args, name))
            if wanted:
                run(tmp)
    print_table(f"table-{args.only}.md" if args.only else "table.md")


if __name__ == "__main__":
    main()
