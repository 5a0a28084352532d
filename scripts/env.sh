# Source this to put the project's pinned tools first on PATH:
#   source scripts/env.sh
# cargo-lambda finds zig (its cross-linker) only when this venv's python3 is
# first on PATH. AWS_EC2_METADATA_DISABLED stops the SDK probing the instance
# metadata address on machines that are not EC2.
_ota_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$_ota_root/.venv/bin:$_ota_root/.tools/node/node_modules/.bin:$PATH"
export AWS_EC2_METADATA_DISABLED=true
export AWS_REGION="${AWS_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0
unset _ota_root
