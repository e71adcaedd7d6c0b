#!/usr/bin/env bash
# The lab hypervisor: a real libvirtd on the test driver, its own config and unix socket under
# .lab/run/libvirt/, one connection held open by keeper.py, guests converged by seed.py.
# Idempotent: a running libvirtd and keeper are reused and their guests left as they are (other
# sessions' tests may be using them); guests are seeded from guests.yml only when the hypervisor
# state is new. lab/libvirt/reset.sh converges the guests back to guests.yml on demand.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
run="$root/.lab/run/libvirt"
sock="$run/libvirt-sock"
uri="test+unix:///default?socket=$sock"
py="$root/.venv/bin/python"

alive() { # pid file -> true when it names a live (non-zombie) process
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat")" != "Z" ]
}

if [ ${#sock} -gt 100 ]; then
  echo "libvirt lab: socket path too long for a unix socket (${#sock} chars): $sock" >&2
  echo "libvirt lab: use a checkout path shorter by $(( ${#sock} - 100 )) characters" >&2
  exit 1
fi
mkdir -p "$run/drivers"
chmod 0700 "$run"

if alive "$run/libvirtd.pid" && [ -S "$sock" ]; then
  echo "libvirt lab: libvirtd already running (pid $(cat "$run/libvirtd.pid"))"
else
  # A stale socket or pid file from a crash would stop libvirtd from starting.
  rm -f "$sock" "$run/libvirt-sock-ro" "$run/libvirt-admin-sock" "$run/libvirtd.pid"
  sed "s|@RUN_DIR@|$run|g" "$here/libvirtd.conf.in" > "$run/libvirtd.conf"
  chmod 0600 "$run/libvirtd.conf"
  # An empty driver directory: only the test driver (built into libvirt itself) is available,
  # so libvirtd neither probes for QEMU/KVM nor touches the machine's network or storage.
  LIBVIRT_DRIVER_DIR="$run/drivers" libvirtd --config "$run/libvirtd.conf" \
    --pid-file "$run/libvirtd.pid" --daemon
  for _ in $(seq 1 100); do
    [ -S "$sock" ] && alive "$run/libvirtd.pid" && break
    sleep 0.1
  done
  if ! [ -S "$sock" ]; then
    echo "libvirt lab: libvirtd did not create $sock; log follows" >&2
    tail -n 20 "$run/libvirtd.log" >&2 || true
    exit 1
  fi
  echo "libvirt lab: libvirtd started (pid $(cat "$run/libvirtd.pid"))"
fi

fresh=false
if alive "$run/keeper.pid" && [ -f "$run/keeper.ready" ]; then
  echo "libvirt lab: keeper already holding the connection (pid $(cat "$run/keeper.pid"))"
else
  rm -f "$run/keeper.ready"
  setsid "$py" "$here/keeper.py" --uri "$uri" --ready-file "$run/keeper.ready" \
    </dev/null >>"$run/keeper.log" 2>&1 &
  echo $! > "$run/keeper.pid"
  for _ in $(seq 1 100); do
    [ -f "$run/keeper.ready" ] && break
    alive "$run/keeper.pid" || break
    sleep 0.1
  done
  if ! [ -f "$run/keeper.ready" ]; then
    echo "libvirt lab: keeper failed to connect; log follows" >&2
    tail -n 20 "$run/keeper.log" >&2 || true
    exit 1
  fi
  echo "libvirt lab: keeper started (pid $(cat "$run/keeper.pid"))"
  fresh=true
fi

# A keeper that was already holding the connection means the guests' state is live and may be in
# use; a new keeper means libvirtd's test driver state may be new (or was freed): seed it.
if [ "$fresh" = true ] || [ ! -f "$run/seeded" ]; then
  "$py" "$here/seed.py" --uri "$uri"
  touch "$run/seeded"
else
  echo "libvirt lab: guests left as they are (lab/libvirt/reset.sh converges them to guests.yml)"
fi
echo "$uri" > "$run/uri"
echo "libvirt lab: up at $uri"
