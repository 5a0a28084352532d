#!/usr/bin/env bash
# `sam build` for this machine's architecture into build/sam-host: the local
# emulator runs each function's bootstrap as a host process. Cached: a second
# run with unchanged sources returns quickly.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=env.sh
source scripts/env.sh
case "$(uname -m)" in
  x86_64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "build-host: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
# Local runs need working binaries quickly, not the smallest ones: no LTO and
# parallel codegen for this build only (the arm64 release keeps the
# Cargo.toml profile).
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
sam build --parameter-overrides "Architecture=$arch" --build-dir build/sam-host --cache-dir build/sam-cache
