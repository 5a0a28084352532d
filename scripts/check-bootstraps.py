#!/usr/bin/env python3
"""Checks that `sam build` produced one bootstrap per function, each an ELF
executable for the expected machine and, with --max-mb, no larger than that
(benches/README.md, B4: 8 MB, 1 MB = 10^6 bytes).

Usage: check-bootstraps.py BUILD_DIR ARCH [--max-mb N]"""
import argparse
import pathlib
import struct
import sys

MACHINES = {"aarch64": 183, "x86_64": 62}
EXPECTED = ["StartSigningFunction", "AwaitSigningFunction", "MakeStreamFunction", "CreateJobFunction"]


def bootstraps(build: pathlib.Path, arch: str) -> tuple[dict, list]:
    """({function: size in MB}, [problems])."""
    sizes, failures = {}, []
    for fn in EXPECTED:
        path = build / fn / "bootstrap"
        if not path.is_file():
            failures.append(f"{path}: missing")
            continue
        with path.open("rb") as f:
            head = f.read(20)
        machine = struct.unpack("<H", head[18:20])[0] if len(head) == 20 else None
        if head[:4] != b"\x7fELF" or machine != MACHINES[arch]:
            failures.append(f"{path}: not an {arch} ELF (machine {machine})")
            continue
        sizes[fn] = path.stat().st_size / 1e6
    return sizes, failures


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("build", type=pathlib.Path)
    p.add_argument("arch", choices=sorted(MACHINES))
    p.add_argument("--max-mb", type=float)
    args = p.parse_args()
    sizes, failures = bootstraps(args.build, args.arch)
    for fn, mb in sizes.items():
        print(f"{fn}/bootstrap: {args.arch} ELF, {mb:.2f} MB")
        if args.max_mb is not None and mb > args.max_mb:
            failures.append(f"{fn}/bootstrap is {mb:.2f} MB, over {args.max_mb} MB")
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
