#!/usr/bin/env python3
"""Checks that the four functions resolve the same features for every crate
they share. `sam build` builds one function at a time; where features differ,
cargo compiles that crate (and everything above it, the SDK stack included)
once more. Run from the workspace root; needs only `cargo tree`."""
import subprocess
import sys

FUNCTIONS = ["start-signing", "await-signing", "make-stream", "create-job"]
TARGET = "aarch64-unknown-linux-gnu"


def features(package: str) -> dict:
    out = subprocess.run(
        ["cargo", "tree", "-p", package, "-e", "normal,build", "--target", TARGET,
         "--prefix", "none", "--no-dedupe", "-f", "{p}|{f}"],
        check=True, capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        if "|" not in line:
            continue
        pkg, feats = line.split("|", 1)
        pkg = pkg.split(" (")[0].strip()
        result[pkg] = frozenset(f for f in feats.split(",") if f)
    return result


def main() -> int:
    trees = {f: features(f) for f in FUNCTIONS}
    bad = []
    shared = set.intersection(*(set(t) for t in trees.values()))
    for pkg in sorted(shared):
        sets = {f: trees[f][pkg] for f in FUNCTIONS}
        if len(set(sets.values())) > 1:
            bad.append(pkg)
            print(f"features differ for {pkg}:", file=sys.stderr)
            for f, s in sets.items():
                print(f"  {f}: {','.join(sorted(s))}", file=sys.stderr)
    if bad:
        return 1
    print(f"feature unification: {len(shared)} shared crates, same features in all {len(FUNCTIONS)} functions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
