#!/usr/bin/env bash
# Bring the whole lab up (idempotent; cached images and repositories are reused).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/lab/env.sh"
mkdir -p "$root/.lab/run" "$HEALTHIT_AUDIT_DIR" "$HEALTHIT_PATCH_STATE_DIR"
for part in repo linux libvirt switches redfish; do
  if [ -x "$root/lab/$part/up.sh" ]; then
    echo "lab: bringing up $part"
    "$root/lab/$part/up.sh"
  fi
done
echo "lab: up"
