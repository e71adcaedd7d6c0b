# Shared by lab/linux/*.sh (sourced, not run).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/lab/env.sh"
cmdb="$root/inventories/lab/cmdb/hosts.csv"
host_image=localhost/lab/debian-labhost:12

# Hostnames of the CMDB rows the Linux part owns (platform linux or kvm_hypervisor), read with a real
# CSV parser; a malformed row stops the lab with file, line and field.
lab_hosts() {
  python3 - "$cmdb" <<'PY'
import csv, re, sys
path = sys.argv[1]
with open(path, newline="", encoding="utf-8") as handle:
    rows = csv.DictReader(handle)
    for field in ("hostname", "platform"):
        if field not in (rows.fieldnames or []):
            sys.exit("%s line 1: field %s: missing from the header" % (path, field))
    for row in rows:
        if (row["platform"] or "").strip() not in ("linux", "kvm_hypervisor"):
            continue
        name = (row["hostname"] or "").strip()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name):
            sys.exit("%s line %d: field hostname: %r is not a valid lab host name" % (path, rows.line_num, name))
        print(name)
PY
}

# Is this one of ours? (never touch a container this part did not create)
is_lab_host() { [ "$(podman inspect --format '{{index .Config.Labels "healthit.lab.part"}}' "$1" 2>/dev/null)" = linux ]; }

start_host() {
  local name=$1
  podman run -d --name "$name" --hostname "$name" \
    --label healthit.lab.part=linux \
    --systemd=always --restart=always --network none \
    -v "$root/.lab/repo:/srv/labrepo:ro" \
    "$host_image" >/dev/null 8>&-
}

# Wait until systemd in each host has finished booting (running or degraded).
wait_booted() {
  local name state deadline=$((SECONDS + ${LAB_BOOT_TIMEOUT:-180}))
  for name in "$@"; do
    while :; do
      state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
      case "$state" in
        running|degraded) break ;;
      esac
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "linux: $name did not finish booting (systemd state: '${state:-unreachable}')" >&2
        return 1
      fi
      sleep 0.5
    done
    if [ "$state" = degraded ]; then
      echo "linux: $name booted degraded; failed units: $(podman exec "$name" systemctl --failed --no-legend --plain 2>/dev/null | awk '{print $1}' | tr '\n' ' ')" >&2
    fi
  done
}

# One lab/linux script at a time: test sessions of several people call lab/up.sh and reset.sh at once.
# Every podman call that can leave conmon behind must close fd 8 (8>&-), or the hosts keep the lock.
lock_linux() {
  exec 8>"$root/.lab/linux.lock"
  flock 8
}

# Say so when a host still runs an image older than the current one (lab/linux/reset.sh renews it).
warn_outdated() {
  local name current
  current=$(podman image inspect --format '{{.Id}}' "$host_image")
  for name in "$@"; do
    [ "$(podman inspect --format '{{.Image}}' "$name")" = "$current" ] ||
      echo "linux: $name runs an older build of $host_image; lab/linux/reset.sh $name renews it" >&2
  done
}

# Images of this part that lost their tag to a rebuild and that no container uses any more.
prune_old_images() {
  local id
  for id in $(podman images -q --filter dangling=true --filter label=lab.inputs); do
    podman rmi "$id" >/dev/null 2>&1 || true
  done
}
