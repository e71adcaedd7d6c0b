#!/usr/bin/env bash
# Publish one more package version into the lab repository, e.g. to show a repository that gained a
# newer version after the test wave was patched:
#   lab/repo/publish-extra.sh labpkg-web 1.2 bookworm-security
# The repository is re-indexed and re-signed; lab/repo/reset.sh takes every extra back out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -ne 3 ]; then
  echo "usage: $0 PACKAGE VERSION SUITE   (e.g. labpkg-web 1.2 bookworm-security)" >&2
  exit 2
fi
extra="$root/.lab/repo-extra.list"
mkdir -p "$root/.lab"
line="$3 $1 $2"
# build.sh validates the line (naming this file and line) before anything is published
grep -qxF "$line" "$extra" 2>/dev/null || echo "$line" >> "$extra"
if ! "$here/build.sh"; then
  # leave no bad line behind to break the next lab/up.sh
  grep -vxF "$line" "$extra" > "$extra.tmp" || true
  mv "$extra.tmp" "$extra"
  exit 1
fi
echo "repo: published $1 $2 in $3"
