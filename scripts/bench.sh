#!/usr/bin/env bash
# The benchmarks (benches/README.md): builds the release binaries for this
# machine and the arm64 bootstraps, starts the local AWS emulator on
# 127.0.0.1, deploys the stack, runs B1-B6 and prints the results table
# (also written to build/bench/results.md). The emulator is stopped at the
# end, also on failure. About 30-40 minutes from a fresh clone on 2 cores,
# most of it compiling; a few minutes when the builds are current.
#
# Usage: scripts/bench.sh [--skip-arm64]   (--skip-arm64: no B4)
set -euo pipefail
cd "$(dirname "$0")/.."
skip_arm64=false
case "${1:-}" in
  "") ;;
  --skip-arm64) skip_arm64=true ;;
  *) echo "usage: scripts/bench.sh [--skip-arm64]" >&2; exit 2 ;;
esac
bash scripts/setup-tools.sh >/dev/null
# shellcheck source=env.sh
source scripts/env.sh
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_ENDPOINT_URL AWS_PROFILE
py=.venv-emulator/bin/python
rm -rf build/bench

if [ "$skip_arm64" = false ]; then
  echo "== B4: sam build (arm64, the Cargo.toml release profile)"
  sam build --parameter-overrides Architecture=arm64 --build-dir build/sam-arm64 >/dev/null
  "$py" local/bench.py sizes --dir build/sam-arm64
fi

echo "== release binaries for this machine"
bash scripts/build-host.sh --release

echo "== B2: cold init (local Runtime API, no emulator needed)"
"$py" local/bench.py cold-init

trap '"$py" local/localaws.py down' EXIT
"$py" local/localaws.py up
"$py" local/localaws.py prepare
"$py" local/localaws.py deploy
echo "== B1, B6: upload -> job, sequential (the first right after deploy)"
"$py" local/bench.py latency
echo "== B5: burst"
"$py" local/bench.py burst
echo "== B3: make-stream peak memory"
"$py" local/bench.py memory
echo "== B7: pipeline overhead over a slow signer (2-60 s)"
"$py" local/bench.py signer-delay
echo "== B8: 50 devices on the MQTT stream, agent peak memory"
"$py" local/bench.py devices

"$py" local/bench.py table | tee build/bench/results.md
