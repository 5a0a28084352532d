#!/usr/bin/env bash
# The four functions for this machine, laid out in build/sam-host the way
# `sam build` lays them out, for the local emulator (which runs each
# bootstrap as a host process) and `sam deploy` into it.
#
#   scripts/build-host.sh            dev profile: the same cargo invocation
#                                    features as the test step, so after the
#                                    tests nothing is compiled again
#   scripts/build-host.sh --release  the Cargo.toml release profile (benchmarks)
#
# The arm64 artifacts for AWS come from the real `sam build` (README, CI).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=env.sh
source scripts/env.sh
case "${1:-}" in
  "")
    # --tests: resolve features exactly as `cargo test` does (dev-dependencies
    # included), so these binaries and the test binaries share one build of
    # every dependency, the AWS SDK included.
    cargo build --locked --workspace --bins --tests
    bin_dir=target/debug
    ;;
  --release)
    cargo build --locked --release --workspace --exclude e2e --bins
    bin_dir=target/release
    ;;
  *) echo "usage: scripts/build-host.sh [--release]" >&2; exit 2 ;;
esac
.venv/bin/python local/assemble_host.py --bin-dir "$bin_dir"
