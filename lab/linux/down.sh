#!/usr/bin/env bash
# Lab part "linux": remove every lab Linux host (found by label, so hosts of an older CMDB go too)
# and check no container process (conmon, runc, the hosts' systemd) is left behind. Images stay.
set -uo pipefail
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
mkdir -p "$root/.lab"
lock_linux
ids=$(podman ps -a -q --filter label=healthit.lab.part=linux)
if [ -n "$ids" ]; then
  # a host's systemd stops on SIGRTMIN+3 (the image's stop signal); give it a few seconds
  podman rm -f -t 10 $ids >/dev/null
fi
left=$(podman ps -a -q --filter label=healthit.lab.part=linux)
if [ -n "$left" ]; then
  echo "linux: containers still present: $left" >&2
  exit 1
fi
# conmon processes of our hosts carry the container id on their command line
for id in $ids; do
  if pgrep -f "conmon .*-c $id" >/dev/null 2>&1 || pgrep -f "conmon .*--cid $id" >/dev/null 2>&1; then
    echo "linux: a conmon process of container $id is still running" >&2
    exit 1
  fi
done
echo "linux: down"
