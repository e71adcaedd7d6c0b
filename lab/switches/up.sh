#!/usr/bin/env bash
# Start the lab switches (fakenos on 127.0.0.1:6021-6023) and their image server (127.0.0.1:6080).
# Idempotent: a running, answering lab is left alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run="$root/.lab/run/switches"
cache="$root/.lab/cache/firmware"
py="$root/.venv/bin/python"
mkdir -p "$run" "$cache"
ports=(6021 6022 6023 6080)

listening() { "$py" - "$@" <<'PY'
import socket, sys
ok = True
for p in sys.argv[1:]:
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", int(p)))
    except OSError:
        ok = False
    finally:
        s.close()
sys.exit(0 if ok else 1)
PY
}

if [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; then
  if listening "${ports[@]}"; then
    echo "switches: already up (pid $(cat "$run/pid"))"
    exit 0
  fi
  echo "switches: process $(cat "$run/pid") is not answering; restarting it"
  "$root/lab/switches/down.sh"
fi

# Ports already taken by something else (another checkout's lab) would make a new process die at once
# while the ports still answer: refuse instead of reporting someone else's switches as ours.
if listening "${ports[@]}"; then
  echo "switches: ports ${ports[*]} are already served by another process (another lab checkout?); not starting" >&2
  exit 1
fi

setsid "$py" "$root/lab/switches/labswitch.py" --config "$root/lab/switches/lab-switches.yml" \
  --run-dir "$run" --cache-dir "$cache" >>"$run/switches.log" 2>&1 < /dev/null &
echo $! > "$run/pid"
for _ in $(seq 1 60); do
  if kill -0 "$(cat "$run/pid")" 2>/dev/null && listening "${ports[@]}"; then
    echo "switches: up (pid $(cat "$run/pid")): sw-core-01:6021 sw-core-02:6022 sw-access-01:6023, images http://127.0.0.1:6080/"
    exit 0
  fi
  if ! kill -0 "$(cat "$run/pid")" 2>/dev/null; then break; fi
  sleep 0.5
done
echo "switches: failed to start, see $run/switches.log" >&2
tail -n 30 "$run/switches.log" >&2 || true
exit 1
