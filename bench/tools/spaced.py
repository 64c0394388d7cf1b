#!/usr/bin/env python3
"""Medians of wall time, CPU time and page faults of commands run apart.

Each round runs every command once, in a new random order; before each run
comes BETWEEN (default: go-task listing its tasks, as in bench/run.py's
rounds) and a pause, so that no run finds the caches a previous run of itself
left warm. Times are from posix_spawn to wait4, so about 0.5 ms above
hyperfine's; CPU time and faults are the child's rusage.

    python3 bench/tools/spaced.py 60 list="hoist --list" dry="hoist --dry upload-image"

Used for the README's breakdown of the dry run (variants of the example
task file, each named by `-d DIR`).
"""

import argparse
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sysconfig
import time


def tool(name):
    """The real binary, as bench/run.py finds it: pip puts wheels' binaries in
    the scripts dir; pyenv's shims on PATH are shell scripts."""
    if os.sep in name:
        return name
    candidate = os.path.join(sysconfig.get_path("scripts"), name)
    return candidate if os.path.isfile(candidate) else (shutil.which(name) or name)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rounds", type=int)
    parser.add_argument("commands", nargs="+", metavar="LABEL=COMMAND")
    parser.add_argument("--between", default=f"{tool('task')} --list-all",
                        help="run before each timed run (default: go-task's --list-all)")
    parser.add_argument("--pause", type=float, default=0.25, help="seconds after BETWEEN")
    args = parser.parse_args()
    commands = {}
    for pair in args.commands:
        label, _, command = pair.partition("=")
        argv = shlex.split(command)
        argv[0] = tool(argv[0])
        commands[label] = argv
    null = os.open(os.devnull, os.O_WRONLY)
    runs = {label: [] for label in commands}
    for _ in range(args.rounds):
        order = list(commands)
        random.shuffle(order)
        for label in order:
            subprocess.run(args.between, shell=True, stdout=null, stderr=null)
            time.sleep(args.pause)
            started = time.perf_counter()
            pid = os.posix_spawn(commands[label][0], commands[label], os.environ,
                                 file_actions=[(os.POSIX_SPAWN_DUP2, null, 1),
                                               (os.POSIX_SPAWN_DUP2, null, 2)])
            _, _, usage = os.wait4(pid, 0)
            wall = time.perf_counter() - started
            runs[label].append((wall, usage.ru_utime + usage.ru_stime, usage.ru_minflt, usage.ru_majflt))
    for label, samples in runs.items():
        median = lambda i: statistics.median(s[i] for s in samples)
        print(f"{label:12} wall {median(0) * 1000:.2f} ms  cpu {median(1) * 1000:.2f} ms  "
              f"minor faults {median(2):.0f}  major faults {sum(s[3] for s in samples)} in "
              f"{sum(1 for s in samples if s[3])} runs")


if __name__ == "__main__":
    main()
