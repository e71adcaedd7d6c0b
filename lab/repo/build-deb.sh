#!/usr/bin/env bash
# Build one lab package: lab/repo/build-deb.sh PACKAGE VERSION OUT.deb
# (architecture all; the source package name is the binary name). The sources are in
# lab/repo/packages/PACKAGE/; @VERSION@ is replaced by VERSION and @REBOOT_REQUIRED@ by yes or no.
# build.sh hashes this file and packages/ to decide when every .deb must be rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "repo: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: $0 PACKAGE VERSION OUT.deb"
pkg=$1 ver=$2 out=$3
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# the staging root becomes the package's "./": not mktemp's 0700
chmod 0755 "$stage"
mkdir -p "$stage/DEBIAN" "$stage/usr/share/doc/$pkg"
src="$here/packages/$pkg"
depends=""
desc=""
# any kernel newer than the one the lab image was built with needs a reboot to run
reboot=yes; [ "$ver" != "1.0" ] || reboot=no
subst() { sed -e "s/@VERSION@/$ver/g" -e "s/@REBOOT_REQUIRED@/$reboot/g" "$1" > "$2"; chmod "$3" "$2"; }
case "$pkg" in
  labpkg-web)
    depends="Depends: python3"
    desc="lab web application with a /health endpoint on 127.0.0.1:8080"
    mkdir -p "$stage/usr/lib/labpkg-web" "$stage/lib/systemd/system" "$stage/etc/labweb"
    subst "$src/labweb.py" "$stage/usr/lib/labpkg-web/labweb.py" 0755
    subst "$src/labweb.service" "$stage/lib/systemd/system/labweb.service" 0644
    ;;
  labpkg-util)
    desc="lab command line tool (no service, non-security updates only)"
    mkdir -p "$stage/usr/bin"
    subst "$src/labutil" "$stage/usr/bin/labutil" 0755
    ;;
  labpkg-kernel)
    desc="lab stand-in for a kernel: a new version needs a reboot to run"
    mkdir -p "$stage/usr/lib/labpkg-kernel" "$stage/lib/systemd/system"
    echo "$ver" > "$stage/usr/lib/labpkg-kernel/version"
    chmod 0644 "$stage/usr/lib/labpkg-kernel/version"
    subst "$src/labkernel-boot.service" "$stage/lib/systemd/system/labkernel-boot.service" 0644
    ;;
  *) die "no build recipe for $pkg" ;;
esac
for script in preinst postinst prerm postrm; do
  [ ! -f "$src/$script" ] || subst "$src/$script" "$stage/DEBIAN/$script" 0755
done
printf '%s (%s) %s; urgency=medium\n\n  * Lab build %s.\n\n -- healthit.patching lab <lab-repo@localhost.invalid>  Thu, 01 Jan 2026 00:00:00 +0000\n' \
  "$pkg" "$ver" bookworm "$ver" | gzip -9n > "$stage/usr/share/doc/$pkg/changelog.Debian.gz"
{
  echo "Package: $pkg"
  echo "Version: $ver"
  echo "Architecture: all"
  echo "Maintainer: healthit.patching lab <lab-repo@localhost.invalid>"
  echo "Section: misc"
  echo "Priority: optional"
  [ -z "$depends" ] || echo "$depends"
  echo "Description: $desc"
  echo " Dummy package of the healthit.patching patch lab, version $ver."
} > "$stage/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$out.part" >/dev/null
mv "$out.part" "$out"
