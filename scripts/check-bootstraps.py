#!/usr/bin/env python3
"""Checks that `sam build` produced one bootstrap per function, each an ELF
executable for the expected machine. Usage: check-bootstraps.py BUILD_DIR ARCH"""
import pathlib
import struct
import sys

MACHINES = {"aarch64": 183, "x86_64": 62}
EXPECTED = ["StartSigningFunction", "AwaitSigningFunction", "MakeStreamFunction", "CreateJobFunction"]


def main() -> int:
    build, arch = pathlib.Path(sys.argv[1]), sys.argv[2]
    failures = []
    for fn in EXPECTED:
        path = build / fn / "bootstrap"
        if not path.is_file():
            failures.append(f"{path}: missing")
            continue
        head = path.read_bytes()[:20]
        machine = struct.unpack("<H", head[18:20])[0] if len(head) == 20 else None
        if head[:4] != b"\x7fELF" or machine != MACHINES[arch]:
            failures.append(f"{path}: not an {arch} ELF (machine {machine})")
            continue
        print(f"{fn}/bootstrap: {arch} ELF, {path.stat().st_size / 1e6:.1f} MB")
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
