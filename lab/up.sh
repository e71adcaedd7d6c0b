#!/usr/bin/env bash
# Bring the whole lab up (idempotent; cached images and repositories are reused).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/lab/env.sh"
mkdir -p "$root/.lab/run" "$HEALTHIT_AUDIT_DIR" "$HEALTHIT_PATCH_STATE_DIR"
# A first build needs about 2 GB (root filesystem, two images, eight hosts); say so rather than fail half-way.
for dir in "$root/.lab" "$(podman info --format '{{.Store.GraphRoot}}' 2>/dev/null || echo /var/lib/containers)"; do
  [ -d "$dir" ] || continue
  free_mb=$(df -Pm "$dir" | awk 'NR==2{print $4}')
  if [ "${free_mb:-0}" -lt 2048 ]; then
    echo "lab: only ${free_mb} MB free under $dir; the lab needs about 2048 MB there" >&2
    exit 1
  fi
done
for part in repo linux libvirt switches redfish; do
  if [ -x "$root/lab/$part/up.sh" ]; then
    echo "lab: bringing up $part"
    "$root/lab/$part/up.sh"
  fi
done
echo "lab: up"
