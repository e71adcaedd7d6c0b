#!/usr/bin/env bash
# Put the lab's Redfish servers back to BiosVersion 1.0.0 (BMCs 13.4.0 and 13.5.0), powered on, no failure switches.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run="$root/.lab/run/redfish"
"$root/lab/redfish/down.sh" >/dev/null
rm -rf "$run/state"
rm -f "$run"/fail-update-* "$run"/noop-update-* "$run/emulator.log"
exec "$root/lab/redfish/up.sh"
