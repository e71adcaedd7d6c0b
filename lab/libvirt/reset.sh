#!/usr/bin/env bash
# Converge the lab hypervisor's guests to lab/libvirt/guests.yml (states, autostart; no snapshots or
# managed saves left). Brings the hypervisor up first when it is down.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
"$here/up.sh" >/dev/null
exec "$root/.venv/bin/python" "$here/seed.py" --uri "$(cat "$root/.lab/run/libvirt/uri")"
