#!/usr/bin/env bash
# Lab part "repo": nothing runs (hosts read it as files), so there is nothing to stop; the
# repository and its key are a cache and stay. Remove .lab/repo* by hand to start from scratch.
set -euo pipefail
echo "repo: nothing to stop (the repository is a cache in .lab/repo)"
