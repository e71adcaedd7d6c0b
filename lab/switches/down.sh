#!/usr/bin/env bash
# Stop the lab switches and the image server; nothing of theirs is left listening.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run="$root/.lab/run/switches"
if [ -f "$run/pid" ]; then
  pid=$(cat "$run/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "switches: pid $pid did not stop on TERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$run/pid"
fi
left=0
for p in 6021 6022 6023 6080; do
  if "$root/.venv/bin/python" -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(0 if s.connect_ex(('127.0.0.1',$p))==0 else 1)"; then
    echo "switches: something still listens on 127.0.0.1:$p" >&2
    left=1
  fi
done
[ $left -eq 0 ] && echo "switches: down"
exit $left
