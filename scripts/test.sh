#!/usr/bin/env bash
# The test command: every unit, property, handler and infrastructure test in
# the workspace. Handler tests use aws-smithy-mocks; nothing here talks to AWS
# or to any network address.
#
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
# The SDK must never look for real credentials or the instance metadata
# service while testing.
export AWS_EC2_METADATA_DISABLED=true
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_ENDPOINT_URL AWS_PROFILE
exec cargo test --workspace --locked "$@"
