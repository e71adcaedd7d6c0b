#!/usr/bin/env bash
# Build the lab's vendor-coordinated dummy application labapp-ehr (versions 1.0 and 1.1) as .deb files in
# .lab/cache/clinical-app/, with a SHA256SUMS file beside them (what a vendor would publish).
# The lab repository (lab/repo/build.sh) has one recipe per package, so this package is built here and
# copied to hosts by the clinical_app_patch role, as a vendor's package would be. Rebuilt only when this
# script or the package sources change. Prints the output directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/.lab/cache/clinical-app"
versions="1.0 1.1"
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
# The /health server is the lab's shared one, labpkg-web's source file, shipped here as labhealth.py.
health="$root/lab/repo/packages/labpkg-web/labweb.py"
inputs=$( { (cd "$here" && find build.sh labapp-ehr -type f -print0 | sort -z | xargs -0 sha256sum); sha256sum < "$health"; } |
  sha256sum | cut -c1-16)
if [ "$(cat "$out/.stamp" 2>/dev/null)" = "$inputs" ] && [ -s "$out/SHA256SUMS" ]; then
  echo "$out"
  exit 0
fi
src="$here/labapp-ehr"
for ver in $versions; do
  stage=$(mktemp -d)
  chmod 0755 "$stage"
  mkdir -p "$stage/DEBIAN" "$stage/usr/lib/labapp-ehr" "$stage/lib/systemd/system" "$stage/etc/labapp-ehr" \
    "$stage/var/spool/labapp-ehr/outbound" "$stage/var/lib/labapp-ehr/sent" "$stage/usr/share/doc/labapp-ehr"
  sed "s/@VERSION@/$ver/g" "$src/labapp_ehr.py" > "$stage/usr/lib/labapp-ehr/labapp_ehr.py"
  chmod 0755 "$stage/usr/lib/labapp-ehr/labapp_ehr.py"
  install -m 0644 "$health" "$stage/usr/lib/labapp-ehr/labhealth.py"
  install -m 0644 "$src/labapp-ehr.service" "$stage/lib/systemd/system/labapp-ehr.service"
  for script in postinst prerm postrm; do install -m 0755 "$src/$script" "$stage/DEBIAN/$script"; done
  chmod 0755 "$stage/var/spool/labapp-ehr/outbound" "$stage/var/lib/labapp-ehr/sent"
  printf 'labapp-ehr (%s) bookworm; urgency=medium\n\n  * Lab vendor build %s.\n\n -- Lab Medical Systems (lab) <vendor@localhost.invalid>  Thu, 01 Jan 2026 00:00:00 +0000\n' \
    "$ver" "$ver" | gzip -9n > "$stage/usr/share/doc/labapp-ehr/changelog.Debian.gz"
  cat > "$stage/DEBIAN/control" <<CONTROL
Package: labapp-ehr
Version: $ver
Architecture: all
Maintainer: Lab Medical Systems (lab) <vendor@localhost.invalid>
Section: misc
Priority: optional
Depends: python3
Description: lab EHR interface application, vendor-coordinated updates
 Dummy vendor application of the healthit.patching patch lab, version $ver:
 /health on 127.0.0.1:8090 and an outbound interface queue.
CONTROL
  SOURCE_DATE_EPOCH=1767225600 dpkg-deb --root-owner-group -Zgzip --build "$stage" "$out/labapp-ehr_${ver}_all.deb.part" >/dev/null
  mv "$out/labapp-ehr_${ver}_all.deb.part" "$out/labapp-ehr_${ver}_all.deb"
  rm -rf "$stage"
done
(cd "$out" && sha256sum labapp-ehr_*_all.deb > SHA256SUMS.part && mv SHA256SUMS.part SHA256SUMS)
echo "$inputs" > "$out/.stamp"
echo "$out"
