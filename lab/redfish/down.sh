#!/usr/bin/env bash
# Stop the lab's Redfish emulator; nothing of it is left listening on 127.0.0.1:8008.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run="$root/.lab/run/redfish"
if [ -f "$run/pid" ]; then
  pid=$(cat "$run/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && { echo "redfish: pid $pid did not stop on TERM; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$run/pid"
fi
if "$root/.venv/bin/python" -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(0 if s.connect_ex(('127.0.0.1',8008))==0 else 1)"; then
  echo "redfish: something still listens on 127.0.0.1:8008" >&2
  exit 1
fi
echo "redfish: down"
