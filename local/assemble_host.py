#!/usr/bin/env python3
"""Lay out build/sam-host the way `sam build` would, from binaries cargo built
for this machine: <LogicalId>/bootstrap for every rust-cargolambda function
and a template.yaml whose CodeUri points at those folders.

Why not `sam build` itself: SAM's cargo-lambda workflow compiles the AWS SDK
again in its own release profile (about 12 minutes on 2 cores), while the test
step has already built the very same binaries. Here they are copied (debug
info stripped, so the zips `sam deploy` uploads stay small). CI still runs the
real `sam build` for the arm64 artifacts (.ci/run).

Runs with the SAM CLI's Python (.venv), whose YAML helper reads and writes
CloudFormation's short-form tags (!Ref, !Sub, !GetAtt) unchanged.

  assemble_host.py --bin-dir target/debug [--out build/sam-host]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from samcli.yamlhelper import yaml_dump, yaml_parse

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin-dir", required=True, type=Path, help="where cargo put the binaries")
    p.add_argument("--out", default=ROOT / "build" / "sam-host", type=Path)
    args = p.parse_args()
    bin_dir, out = args.bin_dir.resolve(), args.out.resolve()

    template = yaml_parse((ROOT / "template.yaml").read_text())
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    functions = 0
    for logical_id, res in template.get("Resources", {}).items():
        if res.get("Type") == "AWS::Serverless::Function":
            meta = res.get("Metadata") or {}
            if meta.get("BuildMethod") != "rust-cargolambda":
                sys.exit(f"assemble-host: {logical_id} is not a rust-cargolambda function")
            binary = (meta.get("BuildProperties") or {}).get("Binary")
            src = bin_dir / str(binary)
            if not src.is_file():
                sys.exit(f"assemble-host: {src} is missing: build the workspace's binaries first")
            dest = out / logical_id
            dest.mkdir()
            # strip(1) writes a copy without debug info or symbols; the
            # original in target/ keeps them for debugging.
            subprocess.run(["strip", "-o", str(dest / "bootstrap"), str(src)], check=True)
            os.chmod(dest / "bootstrap", 0o755)
            res["Properties"]["CodeUri"] = logical_id
            functions += 1
        elif res.get("Type") == "AWS::Serverless::StateMachine":
            uri = res["Properties"].get("DefinitionUri")
            if isinstance(uri, str):
                # Relative to the template that names it, as `sam build` does.
                res["Properties"]["DefinitionUri"] = os.path.relpath(ROOT / uri, out)
    if functions == 0:
        sys.exit("assemble-host: template.yaml has no functions")
    (out / "template.yaml").write_text(yaml_dump(template))
    print(f"assemble-host: {functions} functions from {bin_dir} into {out}")


if __name__ == "__main__":
    main()
