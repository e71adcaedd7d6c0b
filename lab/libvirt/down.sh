#!/usr/bin/env bash
# Stop the lab hypervisor: keeper first, then libvirtd; remove sockets and pid files.
# Leaves no process and no socket behind. Only processes named by our own pid files are signalled.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
run="$root/.lab/run/libvirt"

alive_pid() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat")" != "Z" ]
}

stop() { # name pidfile
  local pid
  pid=$(cat "$2" 2>/dev/null) || { rm -f "$2"; return 0; }
  if alive_pid "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive_pid "$pid" || break; sleep 0.1; done
    if alive_pid "$pid"; then
      echo "libvirt lab: $1 (pid $pid) ignored SIGTERM, killing" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do alive_pid "$pid" || break; sleep 0.1; done
    fi
    echo "libvirt lab: stopped $1 (pid $pid)"
  fi
  rm -f "$2"
}

[ -d "$run" ] || { echo "libvirt lab: nothing to stop"; exit 0; }
stop keeper "$run/keeper.pid"
stop libvirtd "$run/libvirtd.pid"
rm -f "$run/libvirt-sock" "$run/libvirt-sock-ro" "$run/libvirt-admin-sock" "$run/keeper.ready" "$run/uri" "$run/seeded"
rc=0
for f in "$run/libvirt-sock" "$run/keeper.pid" "$run/libvirtd.pid"; do
  if [ -e "$f" ]; then echo "libvirt lab: $f still present" >&2; rc=1; fi
done
echo "libvirt lab: down"
exit $rc
