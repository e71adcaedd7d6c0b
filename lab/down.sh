#!/usr/bin/env bash
# Tear the whole lab down: no process, container or namespace is left behind. Caches are kept.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/lab/env.sh"
rc=0
for part in redfish switches libvirt linux repo; do
  if [ -x "$root/lab/$part/down.sh" ]; then
    echo "lab: tearing down $part"
    "$root/lab/$part/down.sh" || rc=1
  fi
done
echo "lab: down"
exit $rc
