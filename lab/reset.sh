#!/usr/bin/env bash
# Put every lab target back to its initial state (the lab must be up): repository without the extra
# publications, Linux hosts on the 1.0 packages, libvirt guests in their mixed states, switches on their
# initial firmware and config, Redfish servers on their initial firmware. Evidence and state are kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/lab/env.sh"
cd "$root"
for part in repo linux libvirt redfish; do
  if [ -x "lab/$part/reset.sh" ]; then
    echo "lab: resetting $part"
    bash "lab/$part/reset.sh" >/dev/null
  fi
done
echo "lab: resetting switches"
python3 lab/switches/ctl.py reset >/dev/null
echo "lab: reset"
