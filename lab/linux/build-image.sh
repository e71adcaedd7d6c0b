#!/usr/bin/env bash
# Build the lab's Linux host images without any container registry:
#   localhost/lab/debian-systemd:12  Debian 12 minbase + systemd, apt pointed at the lab repository only
#   localhost/lab/debian-labhost:12  the same with the 1.0 lab packages installed (hosts start out of date)
# Each image carries a label with the hash of its inputs and is rebuilt only when that hash changes.
# The debootstrap root filesystem is cached as a tarball in .lab/cache/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/lab/env.sh"
cache="$root/.lab/cache"
keyring="$root/.lab/repo-key/lab-archive-keyring.gpg"
base_image=localhost/lab/debian-systemd:12
host_image=localhost/lab/debian-labhost:12
mkdir -p "$cache"

# Kept small: what systemd needs to boot, what Ansible needs (python3, python3-apt for ansible.builtin.apt),
# and what roles check with (ss from iproute2, ps from procps, unattended-upgrades for security-only runs).
include=python3,python3-apt,systemd,systemd-sysv,dbus,procps,iproute2,unattended-upgrades
# Units that cannot work in a container (no udev, no consoles, no hardware clock) or that would run apt
# behind the tests' back.
mask_units="systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service systemd-modules-load.service
  systemd-remount-fs.service sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
  sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount systemd-firstboot.service
  systemd-journald-audit.socket getty.target console-getty.service getty@tty1.service
  systemd-networkd-wait-online.service e2scrub_reap.service e2scrub_all.timer fstrim.timer
  apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service
  unattended-upgrades.service"

die() { echo "build-image: $*" >&2; exit 1; }

# The Debian mirror this machine already uses (the only network the lab may use while building).
mirror() {
  if [ -n "${LAB_DEBIAN_MIRROR:-}" ]; then echo "$LAB_DEBIAN_MIRROR"; return; fi
  python3 - <<'PY'
import glob, sys
def one_line(path):
    for line in open(path, encoding="utf-8"):
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 3 and parts[0] == "deb":
            opts = [p for p in parts[1:] if p.startswith("[")]
            rest = [p for p in parts[1:] if not p.startswith("[") and not p.endswith("]")]
            if len(rest) >= 2 and rest[1] == "bookworm":
                yield rest[0]
def deb822(path):
    for stanza in open(path, encoding="utf-8").read().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if "deb" in fields.get("types", []) and "bookworm" in fields.get("suites", []) \
                and fields.get("enabled", ["yes"])[0] != "no":
            yield from fields.get("uris", [])
files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
found = []
for f in files:
    try:
        found += list(one_line(f))
    except OSError:
        pass
for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    found += list(deb822(f))
if not found:
    sys.exit("build-image: no Debian mirror serving bookworm in /etc/apt/sources.list*; set LAB_DEBIAN_MIRROR")
print(found[0])
PY
}

image_label() { podman image inspect --format '{{index .Labels "lab.inputs"}}' "$1" 2>/dev/null || true; }

# 1. the debootstrap root filesystem, cached as a tarball keyed by mirror and package list
mirror_url=$(mirror)
rootfs_key=$(printf '%s\n' "$mirror_url" "$include" bookworm minbase | sha256sum | cut -c1-16)
rootfs_tar="$cache/debian-bookworm-minbase-$rootfs_key.tar"
if [ ! -s "$rootfs_tar" ]; then
  echo "build-image: debootstrap bookworm from $mirror_url (a minute or two)"
  work=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # A mirror that drops a connection should not fail the whole lab: three tries, each from an empty directory.
  for try in 1 2 3; do
    rm -rf "$work/rootfs"
    if debootstrap --variant=minbase --include="$include" bookworm "$work/rootfs" "$mirror_url" \
         > "$cache/debootstrap.log" 2>&1; then
      break
    fi
    if [ "$try" = 3 ]; then
      tail -n 30 "$cache/debootstrap.log" >&2
      die "debootstrap failed three times (log: $cache/debootstrap.log; mirror $mirror_url)"
    fi
    echo "build-image: debootstrap failed (try $try of 3): $(grep -E 'E:|W:' "$cache/debootstrap.log" | tail -n 1)"
    sleep $((try * 10))
  done
  chroot "$work/rootfs" apt-get clean
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/log/"*.log "$work/rootfs/var/cache/apt/"*.bin
  tar --numeric-owner -C "$work/rootfs" -cf "$rootfs_tar.part" .
  mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$work"
  trap - EXIT
  # older tarballs are dead weight once a new one exists
  find "$cache" -maxdepth 1 -name 'debian-bookworm-minbase-*.tar' ! -name "$(basename "$rootfs_tar")" -delete
fi

# 2. localhost/lab/debian-systemd:12: masks, lab repository key and sources
[ -s "$keyring" ] || die "no lab repository key at $keyring: run lab/repo/build.sh first"
base_key=$( { echo "$rootfs_key"; sha256sum "$0" "$keyring" | cut -d' ' -f1; } | sha256sum | cut -c1-16)
if [ "$(image_label "$base_image")" != "$base_key" ]; then
  echo "build-image: building $base_image"
  work=$(mktemp -d "$cache/image.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  mkdir "$work/rootfs"
  tar --numeric-owner -C "$work/rootfs" -xf "$rootfs_tar"
  r="$work/rootfs"
  for unit in $mask_units; do ln -sfn /dev/null "$r/etc/systemd/system/$unit"; done
  # an empty machine-id makes systemd generate one per container boot, as on a freshly cloned VM
  : > "$r/etc/machine-id"
  rm -f "$r/var/lib/dbus/machine-id"
  install -m 0644 "$keyring" "$r/usr/share/keyrings/lab-archive-keyring.gpg"
  rm -f "$r/etc/apt/sources.list" "$r/etc/apt/sources.list.d/"*
  cat > "$r/etc/apt/sources.list.d/lab.sources" <<'EOF'
# The patch lab's signed repository, bind-mounted read-only from the lab machine (hosts have no network).
Types: deb
URIs: file:/srv/labrepo
Suites: bookworm bookworm-updates bookworm-security
Components: main
Signed-By: /usr/share/keyrings/lab-archive-keyring.gpg
EOF
  chmod 0644 "$r/etc/apt/sources.list.d/lab.sources"
  # no recommends on the hosts: the lab repository only holds what it was built with
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$r/etc/apt/apt.conf.d/90lab"
  mkdir -p "$r/srv/labrepo"
  old=$(podman image inspect --format '{{.Id}}' "$base_image" 2>/dev/null || true)
  tar --numeric-owner -C "$r" -c . | podman import -q \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=podman' \
    --change "LABEL lab.inputs=$base_key" \
    --change 'STOPSIGNAL SIGRTMIN+3' \
    - "$base_image" >/dev/null
  rm -rf "$work"
  trap - EXIT
  [ -z "$old" ] || podman rmi "$old" >/dev/null 2>&1 || true
fi

# 3. localhost/lab/debian-labhost:12: the 1.0 lab packages installed, so every host starts out of date
repo_key=$(cat "$root/.lab/stamps/repo-base" 2>/dev/null || die "no .lab/stamps/repo-base: run lab/repo/build.sh first")
host_key=$(printf '%s\n' "$base_key" "$repo_key" | sha256sum | cut -c1-16)
if [ "$(image_label "$host_image")" != "$host_key" ]; then
  echo "build-image: building $host_image"
  name=lab-build-labhost-$$
  trap 'podman rm -f -i "$name" >/dev/null 2>&1 || true' EXIT
  podman run --name "$name" --network none --systemd=false \
    -v "$root/.lab/repo:/srv/labrepo:ro" "$base_image" \
    /bin/sh -ec 'apt-get update -q
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        labpkg-web=1.0 labpkg-util=1.0 labpkg-kernel=1.0
      apt-get clean
      rm -rf /var/lib/apt/lists/*' > "$cache/labhost-build.log" 2>&1 \
    || { tail -n 30 "$cache/labhost-build.log" >&2; die "installing the 1.0 lab packages failed"; }
  old=$(podman image inspect --format '{{.Id}}' "$host_image" 2>/dev/null || true)
  podman commit -q --change "LABEL lab.inputs=$host_key" --change 'CMD ["/lib/systemd/systemd"]' "$name" "$host_image" >/dev/null
  podman rm -f "$name" >/dev/null
  trap - EXIT
  # only the image this script replaced; it stays if a container still uses it
  [ -z "$old" ] || podman rmi "$old" >/dev/null 2>&1 || true
fi
echo "build-image: $base_image and $host_image up to date"
