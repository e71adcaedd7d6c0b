"""The lab inventory through healthit.patching.patch_inventory, with the lab's ansible.cfg, as users run it."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, VENV_BIN, ansible_adhoc, lab_env, run

LAB_INVENTORY = os.path.join(ROOT, "inventories", "lab")
REGISTER = os.path.join(LAB_INVENTORY, "exceptions", "register.yml")
LAB_HOSTS = ["lnx-test-01", "lnx-test-02", "lnx-prod-01", "lnx-prod-02", "lnx-prod-03", "lnx-expired-01",
             "kvm-01", "sw-core-01", "sw-core-02", "sw-access-01", "srv-01", "srv-02"]


def unwrap(value):
    """ansible-inventory prints untrusted (unsafe) strings as {"__ansible_unsafe": text}: read the text."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def inventory(*args, check=True):
    return run([os.path.join(VENV_BIN, "ansible-inventory"), *args], check=check, timeout=300)


@pytest.fixture(scope="module")
def exported():
    """`ansible-inventory --list --export` of the configured (lab) inventory: group vars stay on groups."""
    return unwrap(json.loads(inventory("--list", "--export").stdout))


@pytest.fixture(scope="module")
def listed():
    """`ansible-inventory --list`: every host with its merged vars."""
    return unwrap(json.loads(inventory("--list").stdout))


def group_hosts(data, group):
    return sorted(data.get(group, {}).get("hosts", []))


def test_exception_host_is_absent_and_listed_as_excluded(listed, exported):
    hostvars = listed["_meta"]["hostvars"]
    assert "lnx-exc-01" not in hostvars
    assert sorted(hostvars) == sorted(LAB_HOSTS)
    excluded = exported["all"]["vars"]["patch_excluded_hosts"]
    assert [(e["host"], e["exception"], e["owner"], e["expires"]) for e in excluded] == [
        ("lnx-exc-01", "EXC-2026-014", "radiology-it", "2099-12-31")]
    assert excluded[0]["compensating_controls"] == ["VLAN 312 isolated", "inbound deny except PACS server"]


def test_expired_exception_host_is_patched_again_and_flagged(listed):
    assert group_hosts(listed, "exception_expired") == ["lnx-expired-01"]
    flag = listed["_meta"]["hostvars"]["lnx-expired-01"]["patch_exception_expired"]
    assert (flag["id"], flag["expires"]) == ("EXC-2025-003", "2026-01-31")
    assert "lnx-expired-01" in group_hosts(listed, "wave_production")


def test_cmdb_values_are_marked_unsafe():
    """Values from the CMDB reach Ansible untrusted: never templated (ansible-core prints them as unsafe)."""
    raw = json.loads(inventory("--list").stdout)["_meta"]["hostvars"]["lnx-test-01"]
    assert raw["patch_owner"] == {"__ansible_unsafe": "infra-linux"}
    assert raw["cmdb_service_desk_queue"] == {"__ansible_unsafe": "INFRA-LINUX"}
    # a value from the lab's own group_vars file is trusted and printed plain
    assert raw["ansible_python_interpreter"] == "/usr/bin/python3"


def test_marker_names_the_register_that_decided(exported):
    all_vars = exported["all"]["vars"]
    assert all_vars["patch_inventory_source"] == "healthit.patching.patch_inventory"
    assert all_vars["patch_exception_register_path"] == REGISTER
    with open(REGISTER, "rb") as handle:
        assert all_vars["patch_exception_register_sha256"] == hashlib.sha256(handle.read()).hexdigest()


def test_lab_groups_and_connection_overrides(listed, exported):
    assert group_hosts(listed, "wave_test") == ["kvm-01", "lnx-test-01", "lnx-test-02", "srv-01", "sw-access-01"]
    assert group_hosts(listed, "ha_web_ha") == ["lnx-prod-01", "lnx-prod-02"]
    assert group_hosts(listed, "window_lab_closed") == ["lnx-prod-03"]
    assert group_hosts(listed, "kvm_hypervisor") == ["kvm-01"]
    assert exported["ios"]["vars"]["ansible_network_os"] == "cisco.ios.ios"
    hostvars = listed["_meta"]["hostvars"]
    # the plugin's ios defaults reach the switches; group_vars/linux.yml overrides ssh with podman
    assert hostvars["sw-core-01"]["ansible_connection"] == "ansible.netcommon.network_cli"
    assert hostvars["lnx-test-01"]["ansible_connection"] == "containers.podman.podman"
    assert hostvars["lnx-test-01"]["patch_wave"] == "test"
    # servers' firmware: the BMC at the CMDB address, reached from the controller (no OS session)
    assert group_hosts(listed, "redfish") == ["srv-01", "srv-02"]
    assert exported["redfish"]["vars"]["ansible_connection"] == "ansible.builtin.local"
    assert hostvars["srv-02"]["ansible_host"] == "127.0.0.1" and hostvars["srv-02"]["patch_wave"] == "production"
    assert hostvars["srv-01"]["server_firmware_resource_id"] == "5a1b0c3e-0000-4000-8000-000000000001"


def test_excluded_host_cannot_be_targeted():
    proc = run([os.path.join(VENV_BIN, "ansible"), "lnx-exc-01", "--list-hosts"], check=False, timeout=300)
    assert "hosts (0)" in proc.stdout, proc.stdout + proc.stderr


def corrupt_copy(tmp_path, text):
    copy = tmp_path / "lab"
    shutil.copytree(LAB_INVENTORY, copy)
    (copy / "exceptions" / "register.yml").write_text(text, encoding="utf-8")
    return copy


CORRUPTIONS = {
    "unparsable YAML": ("exceptions:\n  - id: EXC-2026-014\n    hosts: [lnx-exc-01\n    owner: radiology-it\n",
                        "line 4"),
    "no expiry": ("exceptions:\n  - id: EXC-2026-014\n    hosts: [lnx-exc-01]\n    owner: radiology-it\n"
                  "    approved_by: CISO\n    approved_on: 2026-08-01\n", "field 'expires'"),
    "bad CIDR": ("exceptions:\n  - id: EXC-2026-014\n    hosts: [192.0.2.31/40]\n    owner: radiology-it\n"
                 "    approved_by: CISO\n    approved_on: 2026-08-01\n    expires: 2099-12-31\n", "field 'hosts'"),
}


@pytest.mark.parametrize("source", ["directory", "config file"])
@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_register_fails_and_lists_no_hosts(tmp_path, name, source):
    text, where = CORRUPTIONS[name]
    copy = corrupt_copy(tmp_path, text)
    target = str(copy) if source == "directory" else str(copy / "lab.patch_inventory.yml")
    proc = inventory("-i", target, "--list", check=False)
    assert proc.returncode != 0, proc.stdout
    for host in LAB_HOSTS + ["lnx-exc-01"]:
        assert host not in proc.stdout
    assert "register.yml" in proc.stderr, proc.stderr
    if source == "config file" or name != "unparsable YAML":
        # In a directory Ansible also offers register.yml itself to the yaml plugin, which fails on
        # unparsable YAML before this plugin runs: still fatal, but that message is core's.
        assert where in proc.stderr and "patch_inventory:" in proc.stderr, proc.stderr


def test_config_error_also_fails(tmp_path):
    copy = tmp_path / "lab"
    shutil.copytree(LAB_INVENTORY, copy)
    with open(copy / "lab.patch_inventory.yml", "a", encoding="utf-8") as handle:
        handle.write("today: 31/12/2026\n")
    proc = inventory("-i", str(copy), "--graph", check=False)
    assert proc.returncode != 0
    assert "field 'today'" in proc.stderr
    assert "lnx-test-01" not in proc.stdout


def linux_lab_up():
    try:
        proc = subprocess.run(["podman", "ps", "--filter", "name=^lnx-test-01$", "--format", "{{.Status}}"],
                              env=lab_env(), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, "podman not usable: %s" % exc
    if proc.returncode != 0:
        return False, "podman ps failed: %s" % proc.stderr.strip()[:200]
    if not proc.stdout.strip().startswith("Up"):
        return False, "the Linux lab container lnx-test-01 is not running (bring it up with lab/up.sh)"
    return True, ""


@pytest.mark.lab
def test_ping_through_the_plugin_inventory():
    up, why = linux_lab_up()
    if not up:
        pytest.skip(why)
    results = ansible_adhoc("lnx-test-01", "ansible.builtin.ping")
    assert results["lnx-test-01"]["ping"] == "pong", results
