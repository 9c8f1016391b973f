#!/usr/bin/env bash
# schemathesis (property-based API testing from the OpenAPI document) for the trident-serve
# test `schemathesis_against_running_server`, in its own venv. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
VENV=/opt/trident-venv
if [ -x "$VENV/bin/schemathesis" ]; then
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
"$VENV/bin/schemathesis" --version
