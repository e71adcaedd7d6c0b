"""The lab's emulated Cisco switches answer Ansible like IOS devices and keep state across reloads."""
import hashlib
import json
import os

import pytest
import yaml

from conftest import ROOT, ansible_adhoc, ansible_playbook, switch_ctl, switch_state, switches_ctl

INVENTORY = os.path.join(ROOT, "inventories", "lab", "lab.patch_inventory.yml")

with open(os.path.join(ROOT, "lab", "switches", "lab-switches.yml"), encoding="utf-8") as _f:
    LAB_SWITCHES = yaml.safe_load(_f)


def expected_version(name):
    """The version string `show version` reports first (IOS-XE pads it, as real devices do)."""
    image = LAB_SWITCHES["switches"][name]["image"]
    meta = LAB_SWITCHES["images"][image]
    if meta["train"] == "iosxe":
        major, minor, rebuild = meta["version"].split(".")
        return "%s.%02d.%02d" % (major, int(minor), int(rebuild))
    return meta["version"]


@pytest.fixture()
def fresh_switches(lab):
    with switches_ctl.exclusive():
        switch_ctl("reset")
        yield
        switch_ctl("reset")


@pytest.mark.lab
def test_ios_facts_reads_each_switch_version(fresh_switches):
    results = ansible_adhoc("network", "cisco.ios.ios_facts", "gather_subset=min", "-i", INVENTORY)
    assert sorted(results) == ["sw-access-01", "sw-core-01", "sw-core-02"]
    for name, res in results.items():
        facts = res["ansible_facts"]
        assert facts["ansible_net_version"] == expected_version(name), name
        assert facts["ansible_net_model"] == LAB_SWITCHES["switches"][name]["model"], name
        assert facts["ansible_net_image"] == "flash:" + LAB_SWITCHES["switches"][name]["image"], name
    assert expected_version("sw-core-01") == "17.09.04"
    assert expected_version("sw-access-01") == "15.2(7)E3"


PLAYBOOK = """
- hosts: sw-access-01
  gather_facts: false
  tasks:
    - name: Copy the new image from the lab image server
      cisco.ios.ios_command:
        commands:
          - command: copy http://127.0.0.1:6080/{image} flash:{image}
            prompt: ['Destination filename']
            answer: ["\\r"]
    - name: Boot it, keep the old one as fallback
      cisco.ios.ios_config:
        lines: ["no boot system", "boot system flash:{image}", "boot system flash:{old}"]
        match: none
    - name: Save
      cisco.ios.ios_command:
        commands: ["write memory"]
    - name: Reload
      cisco.ios.ios_command:
        commands:
          - command: reload
            prompt: ['Proceed with reload']
            answer: ["\\r"]
    - name: Forget the dropped session
      ansible.builtin.meta: reset_connection
    - name: Wait for the switch
      ansible.builtin.wait_for_connection:
        delay: 2
        timeout: 90
"""


@pytest.mark.lab
def test_copy_verify_and_reload_boot_the_new_image(fresh_switches, tmp_path):
    name = "sw-access-01"
    new = "c2960x-universalk9-mz.152-7.E10.bin"
    old = LAB_SWITCHES["switches"][name]["image"]
    with open(os.path.join(ROOT, ".lab", "cache", "firmware", new), "rb") as f:
        served_md5 = hashlib.md5(f.read()).hexdigest()  # noqa: S324 - what the device reports

    book = tmp_path / "reload.yml"
    book.write_text(PLAYBOOK.format(image=new, old=old))
    ansible_playbook(str(book), "-i", INVENTORY)

    out = ansible_adhoc(name, "cisco.ios.ios_command", json.dumps(
        {"commands": ["verify /md5 flash:" + new, "show boot", "show version"]}), "-i", INVENTORY)
    verify, boot, version = out[name]["stdout"]
    assert "= %s" % served_md5 in verify
    assert "flash:%s;flash:%s" % (new, old) in boot
    assert "Version 15.2(7)E10," in version
    state = switch_state(name)
    assert state["running_image"] == new
    assert state["reloads"] == 1
    assert state["startup_config"]["boot"] == ["flash:" + new, "flash:" + old]


@pytest.mark.lab
def test_control_file_shrinks_flash_and_reset_restores(fresh_switches):
    name = "sw-core-02"
    switch_ctl("inject", name, "flash_free_bytes=4096")
    out = ansible_adhoc(name, "cisco.ios.ios_command", json.dumps({"commands": ["dir flash:"]}), "-i", INVENTORY)
    assert "(4096 bytes free)" in out[name]["stdout"][0]
    switch_ctl("reset", name)
    out = ansible_adhoc(name, "cisco.ios.ios_command", json.dumps({"commands": ["dir flash:"]}), "-i", INVENTORY)
    assert "(4096 bytes free)" not in out[name]["stdout"][0]
    assert not os.path.exists(os.path.join(ROOT, ".lab", "run", "switches", name + ".control.json"))
