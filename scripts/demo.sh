#!/usr/bin/env bash
# The whole pipeline on this machine, no AWS account needed: installs the
# pinned tools, builds the functions for this machine, starts the local AWS
# emulator on 127.0.0.1, prepares it (code-signing certificate, signing
# profile, thing groups), deploys the real template with the real SAM CLI,
# uploads firmware with tags, follows it to the IoT job, prints the job and
# verifies its signature. The emulator is stopped at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-tools.sh
bash scripts/build-host.sh
py=.venv-emulator/bin/python
trap '"$py" local/localaws.py down' EXIT
"$py" local/localaws.py up
"$py" local/localaws.py prepare
"$py" local/localaws.py deploy
"$py" local/localaws.py demo
