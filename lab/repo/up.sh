#!/usr/bin/env bash
# Lab part "repo": the signed apt repository the Linux hosts patch from (cached; see build.sh).
set -euo pipefail
exec "$(cd "$(dirname "$0")" && pwd)/build.sh"
