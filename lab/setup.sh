#!/usr/bin/env bash
# Idempotent setup of the toolchain: Debian packages and the pinned .venv.
# Fast when nothing changed: each half is skipped when its stamp matches its input files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .lab/stamps

pkgs=$(grep -vE '^\s*(#|$)' lab/debian-packages.txt | tr '\n' ' ')
deb_sum=$(sha256sum lab/debian-packages.txt | cut -d' ' -f1)
if [ "$(cat .lab/stamps/debian 2>/dev/null)" != "$deb_sum" ]; then
  missing=$(dpkg-query -W -f='${Package} ${Status}\n' $pkgs 2>/dev/null | awk '$4!="installed"{print $1}' || true)
  # dpkg-query prints nothing for packages it has never heard of: count those as missing too
  for p in $pkgs; do dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$(echo $missing)" ]; then
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o Acquire::Retries=5 update -q
    apt-get -o Acquire::Retries=5 install -y -q --no-install-recommends $pkgs libvirt-daemon-driver-qemu
  fi
  echo "$deb_sum" > .lab/stamps/debian
else
  echo "setup: Debian packages up to date"
fi

py_sum=$(cat lab/requirements.txt lab/constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/ansible-playbook ] || [ "$(cat .lab/stamps/venv 2>/dev/null)" != "$py_sum" ]; then
  echo "setup: building .venv (pinned toolchain)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r lab/requirements.txt -c lab/constraints.txt
  echo "$py_sum" > .lab/stamps/venv
else
  echo "setup: .venv up to date"
fi

# The collection is used in place, through a link that makes the checkout look installed.
mkdir -p .build/collections/ansible_collections/healthit
ln -sfn "$root" .build/collections/ansible_collections/healthit/patching

# ansible-test bootstraps pip in its sanity venvs from a host outside the package registries.
pipver=$(grep -ohE "pip='[0-9.]+'" .venv/lib/python3.*/site-packages/ansible_test/_internal/python_requirements.py | head -n 1 | tr -dc '0-9.')
if [ -n "$pipver" ]; then
  mkdir -p "$HOME/.ansible/test/cache"
  cp lab/ansible-test-get-pip.py "$HOME/.ansible/test/cache/get_pip_${pipver//./_}.py"
fi
echo "setup: done ($(.venv/bin/python -c 'import ansible.release as r; print("ansible-core", r.__version__)'))"
