#!/usr/bin/env python3
"""The code a command runs: distinct 64-byte lines and 4 KiB pages of the
program's own text that it executes, counted under valgrind's lackey.

A start-up a moment after other processes pays for each distinct line of
code it runs (a cache miss) and each distinct page (a TLB miss, a fault),
more than for the instructions themselves; this counts both, for the
program's binary (not ld.so or the shared libraries), and with --by-crate
which crates (or C objects) they belong to.

    python3 bench/tools/footprint.py -- target/release/hoist --dry upload-image
    python3 bench/tools/footprint.py --by-crate 15 -- target/release/hoist --dry upload-image

Needs valgrind and nm (binutils). Runs the command once in the current
directory, its output to /dev/null.
"""

import argparse
import bisect
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile


def read_trace(path, binary):
    """Executed addresses, and where valgrind mapped the binary (from its
    `Reading syms from ...` line and the `svma ..., avma ...` after it)."""
    real = os.path.realpath(binary)
    addrs, base, reading = set(), None, False
    with open(path) as f:
        for line in f:
            if line.startswith("I "):
                addrs.add(int(line[3:line.index(",")], 16))
            elif line.startswith("--"):
                if line.rstrip().endswith(f"Reading syms from {real}"):
                    reading = True
                elif reading and base is None:
                    m = re.search(r"svma 0x([0-9a-f]+), avma 0x([0-9a-f]+)", line)
                    if m:
                        base = int(m.group(2), 16) - int(m.group(1), 16)
    if base is None:
        sys.exit("footprint: could not find where valgrind mapped the binary")
    return addrs, base


def text_range(binary):
    """Start and end of the binary's executable sections, from its headers."""
    out = subprocess.run(["readelf", "-SW", binary], check=True, capture_output=True, text=True).stdout
    start, end = None, None
    for line in out.splitlines():
        m = re.search(r"\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S*X\S*)", line)
        if m:
            lo, size = int(m.group(2), 16), int(m.group(3), 16)
            start = lo if start is None else min(start, lo)
            end = lo + size if end is None else max(end, lo + size)
    return start, end


def symbols(binary):
    out = subprocess.run(["nm", "-C", "--defined-only", "-n", binary], check=True,
                         capture_output=True, text=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            addrs.append(int(parts[0], 16))
            names.append(parts[2])
    return addrs, names


def crate(name):
    m = re.match(r"<*(?:&(?:mut )?)?([A-Za-z_][A-Za-z0-9_]*)::", name)
    return m.group(1) if m else "C and runtime objects"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--by-crate", type=int, default=0, metavar="N", help="also the N crates with most lines")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    binary = shutil.which(args.command[0]) or args.command[0]
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace")
        with open(os.devnull, "w") as null:
            subprocess.run(["valgrind", "-v", "-v", "--tool=lackey", "--trace-mem=yes",
                            f"--log-file={trace}", binary, *args.command[1:]],
                           stdout=null, stderr=null, check=False)
        addrs, base = read_trace(trace, binary)
    start, end = text_range(binary)
    lines = {(addr - base) >> 6 for addr in addrs if start <= addr - base < end}
    pages = {line >> 6 for line in lines}
    print(f"{len(lines)} lines ({len(lines) * 64 // 1024} KiB) on {len(pages)} pages of {binary}'s code")
    if args.by_crate:
        addrs, names = symbols(binary)
        by_crate, pages_of = collections.Counter(), collections.defaultdict(set)
        for line in lines:
            i = bisect.bisect_right(addrs, line << 6) - 1
            name = crate(names[i]) if i >= 0 else "?"
            by_crate[name] += 1
            pages_of[name].add(line >> 6)
        for name, count in by_crate.most_common(args.by_crate):
            print(f"{count:7d} lines {len(pages_of[name]):5d} pages  {name}")


if __name__ == "__main__":
    main()
