# Source this to use the lab from a shell: . lab/env.sh
_lab_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export HEALTHIT_LAB_ROOT="$_lab_root"
export PATH="$_lab_root/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$_lab_root/ansible.cfg"
export CONTAINERS_CONF="$_lab_root/lab/linux/containers.conf"
export HEALTHIT_AUDIT_DIR="${HEALTHIT_AUDIT_DIR:-$_lab_root/.lab/evidence}"
export HEALTHIT_PATCH_STATE_DIR="${HEALTHIT_PATCH_STATE_DIR:-$_lab_root/.lab/state}"
unset _lab_root
