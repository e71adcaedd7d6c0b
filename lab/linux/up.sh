#!/usr/bin/env bash
# Lab part "linux": one systemd container per CMDB row with platform linux or kvm_hypervisor.
# Idempotent: images are rebuilt only when their inputs changed, running hosts are left alone,
# stopped or missing ones are started. Returns once every host's systemd has booted.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
mkdir -p "$root/.lab"
lock_linux
"$root/lab/linux/build-image.sh" 8>&-
hosts=$(lab_hosts)
[ -n "$hosts" ] || { echo "linux: no linux or kvm_hypervisor rows in $cmdb" >&2; exit 1; }
for name in $hosts; do
  if podman container exists "$name"; then
    is_lab_host "$name" || { echo "linux: a container named $name exists and is not a lab host; not touching it" >&2; exit 1; }
    # a host rebooting right now is briefly not running; a failed start shows up in wait_booted
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] ||
      podman start "$name" >/dev/null 8>&- || echo "linux: podman start $name failed; waiting for it anyway" >&2
  else
    start_host "$name"
  fi
done
wait_booted $hosts
warn_outdated $hosts
prune_old_images
echo "linux: up: $(echo $hosts)"
