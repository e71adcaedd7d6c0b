#!/usr/bin/env bash
# Return the lab repository to its base content (lab/repo/packages.list): drops what
# publish-extra.sh added, then re-indexes and re-signs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rm -f "$root/.lab/repo-extra.list"
exec "$here/build.sh"
