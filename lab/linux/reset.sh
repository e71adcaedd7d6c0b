#!/usr/bin/env bash
# Recreate lab Linux hosts fresh from the image (1.0 packages, nothing patched, no state):
#   lab/linux/reset.sh [HOST...]    (every Linux lab host when no name is given)
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
all=$(lab_hosts)
if [ $# -gt 0 ]; then
  for name in "$@"; do
    grep -qxF "$name" <<< "$all" || { echo "linux: $name is not a linux or kvm_hypervisor host in $cmdb" >&2; exit 2; }
  done
  hosts="$*"
else
  hosts=$all
fi
mkdir -p "$root/.lab"
lock_linux
"$root/lab/linux/build-image.sh" >/dev/null 8>&-
for name in $hosts; do
  if podman container exists "$name"; then
    is_lab_host "$name" || { echo "linux: a container named $name exists and is not a lab host; not touching it" >&2; exit 1; }
    podman rm -f -t 5 "$name" >/dev/null
  fi
  start_host "$name"
done
wait_booted $hosts
prune_old_images
echo "linux: reset: $(echo $hosts)"
