#!/usr/bin/env bash
# The test command. Runs, in order:
#   1. every unit, property, handler (aws-smithy-mocks) and infrastructure test
#      in the workspace;
#   2. the local emulator's own check (local/emulator_check.py);
#   3. the end-to-end suites (tests/e2e, crates/ota-cli/tests/cli_e2e.rs):
#      builds the functions and the `ota` command for this machine, starts the
#      local AWS emulator on 127.0.0.1, prepares it, deploys the real template
#      with the real SAM CLI and drives real uploads through it, directly and
#      with `ota`.
# The emulator and every process it started are stopped at the end, also on
# failure. Nothing talks to AWS or to any address but 127.0.0.1.
#
# Usage: scripts/test.sh [extra cargo test args for step 1]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-tools.sh >/dev/null
# The SDK must never look for real credentials, a real endpoint or the
# instance metadata service while testing.
export AWS_EC2_METADATA_DISABLED=true
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_ENDPOINT_URL AWS_PROFILE

# Every cargo command here selects the whole workspace with dev-dependencies
# (as scripts/build-host.sh does), so they all resolve one feature set and the
# AWS SDK is compiled once for all of them. The e2e tests are #[ignore]d here
# (listed as ignored, not passed) and run in step 3.
logs=build/test-logs
mkdir -p "$logs"
echo "== unit, property, handler and infrastructure tests"
cargo test --workspace --locked --lib --bins --tests "$@" 2>&1 | tee "$logs/step1.log"

py=.venv-emulator/bin/python
echo "== local emulator check"
"$py" local/emulator_check.py

echo "== end-to-end tests on the local emulator"
bash scripts/build-host.sh
trap '"$py" local/localaws.py down' EXIT
"$py" local/localaws.py up
"$py" local/localaws.py prepare
"$py" local/localaws.py deploy
# tests/e2e (the pipeline) and crates/ota-cli (the `ota` command).
cargo test --workspace --locked --test pipeline --test devices --test fleet --test fleet_mqtt --test duplicate_runs --test notifications --test package_catalog --test releases --test cli_e2e -- --ignored 2>&1 | tee "$logs/step3.log"

# One line for the whole run, from cargo's own `test result:` lines; fails
# when an #[ignore]d test ran nowhere (scripts/test-summary.py).
python3 scripts/test-summary.py "$logs/step1.log" "$logs/step3.log" ${1:+--filtered}
