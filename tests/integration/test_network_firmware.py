"""network_firmware on the lab's emulated switches: upgrades verified, bad images and bad reloads never stick.

Every test starts from freshly reset switches (lab/switches/ctl.py reset) and its own state and
evidence directories, injects failures through the switches' control files and reads the switch
state the lab process saves, so each assertion is about what the device really did.
"""
import glob
import json
import os
import stat

import pytest
import yaml

from conftest import (ROOT, ansible_playbook, json_env, reported_results, switch_ctl, switch_events_since_reset,
                      switch_state, switches_ctl)

INVENTORY = os.path.join(ROOT, "inventories", "lab", "lab.patch_inventory.yml")
with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "network.yml"), encoding="utf-8") as _f:
    CATALOGUE = yaml.safe_load(_f)["network_firmware_catalogue"]["ios"]

CORE_OLD, CORE_NEW = "cat9k_iosxe.17.09.04.SPA.bin", CATALOGUE["C9300-48P"]["image"]
ACC_OLD, ACC_NEW = "c2960x-universalk9-mz.152-7.E3.bin", CATALOGUE["WS-C2960X-48FPD-L"]["image"]

# The documented play pattern: one member of an HA group at a time, stop at the first failure.
PLAYBOOK = """
- name: Network firmware
  hosts: "{{ fw_hosts }}"
  gather_facts: false
  serial: 1
  max_fail_percentage: 0
  tasks:
    - name: Upgrade
      ansible.builtin.include_role:
        name: healthit.patching.network_firmware
"""


@pytest.fixture()
def fw(lab, tmp_path):
    """Fresh switches, private state/evidence dirs, and a runner returning {host: patch_result}."""
    with switches_ctl.exclusive():
        switch_ctl("reset")
        yield from _fw(tmp_path)
        switch_ctl("reset")


def _fw(tmp_path):
    book = tmp_path / "firmware.yml"
    book.write_text(PLAYBOOK)
    state_dir = tmp_path / "state"
    evidence_dir = tmp_path / "evidence"
    state_dir.mkdir()
    evidence_dir.mkdir()

    def play(hosts, *extra, check=True, window=True):
        env = json_env(HEALTHIT_PATCH_STATE_DIR=str(state_dir), HEALTHIT_AUDIT_DIR=str(evidence_dir))
        args = ["-i", INVENTORY, "-e", "fw_hosts=" + hosts]
        if window:
            args += ["-e", "network_firmware_skip_window_check=true"]
        proc = ansible_playbook(str(book), *args, *extra, env=env, check=False)
        results = reported_results(proc.stdout)
        if check:
            assert proc.returncode == 0, proc.stdout[-5000:]
        return proc.returncode, results

    play.state_dir = state_dir
    play.evidence_dir = evidence_dir
    yield play


@pytest.mark.lab
def test_ha_pair_on_old_version_ends_on_target_verified_with_backups(fw):
    rc, res = fw("ha_core_pair")
    assert rc == 0
    for name in ("sw-core-01", "sw-core-02"):
        r = res[name]
        assert r["status"] == "patched", r
        assert r["before"]["firmware"] == "17.09.04" and r["after"]["firmware"] == "17.12.01"
        assert r["rebooted"] is True
        st = switch_state(name)
        assert st["running_image"] == CORE_NEW
        assert st["startup_config"]["boot"] == ["flash:" + CORE_NEW, "flash:" + CORE_OLD]
        assert st["reloads"] == 1
        steps = [a["step"] for a in r["actions"]]
        assert steps == ["check", "verify_image", "stage", "verify_image", "backup", "boot", "verify"], steps
        assert all(a["md5_verified"] for a in r["actions"] if a["step"] in ("verify_image", "stage"))
        backup = next(a for a in r["actions"] if a["step"] == "backup")["path"]
        assert backup.startswith(str(fw.state_dir / "config-backups") + os.sep)
        assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
        with open(backup, encoding="utf-8") as f:
            assert "hostname %s" % name in f.read()
        with open(fw.state_dir / "network-firmware" / (name + ".json"), encoding="utf-8") as f:
            assert json.load(f)["status"] == "verified"
    # serial 1 per HA group: the second member reloaded only after the first was back and verified
    first_boot = [h["time"] for h in switch_state("sw-core-01")["history"] if h["event"].startswith("booted")][0]
    second_reload = [h["time"] for h in switch_state("sw-core-02")["history"] if h["event"].startswith("reload requested")][0]
    assert first_boot < second_reload
    # the evidence has the result with the backup path, and no credential
    text = "".join(open(p, encoding="utf-8").read() for p in glob.glob(str(fw.evidence_dir / "*.jsonl")))
    assert backup in text
    assert "lab-only" not in text


@pytest.mark.lab
def test_switch_already_on_target_is_untouched(fw):
    rc, res = fw("sw-access-01")
    assert res["sw-access-01"]["status"] == "patched"
    reloads = switch_state("sw-access-01")["reloads"]
    switch_ctl("inject", "sw-access-01", "flash_free_bytes=0")  # would refuse any copy: none may be tried
    before = len(switch_state("sw-access-01")["history"])
    rc, res = fw("sw-access-01")
    r = res["sw-access-01"]
    assert r["status"] == "current", r
    assert r["rebooted"] is False and r["actions"] == []
    assert r["before"]["firmware"] == r["after"]["firmware"] == "15.2(7)E10"
    st = switch_state("sw-access-01")
    assert st["reloads"] == reloads
    new_events = [h["event"] for h in st["history"][before:]]
    assert not [e for e in new_events if "copy" in e or "reload" in e or "configure" in e or "delete" in e], new_events


@pytest.mark.lab
def test_corrupted_image_is_never_activated(fw):
    switch_ctl("inject", "sw-access-01", "corrupt_next_copy=true")
    rc, res = fw("sw-access-01", check=False)
    assert rc != 0
    r = res["sw-access-01"]
    assert r["status"] == "failed"
    assert "checksum mismatch" in r["reason"] and "never set as boot image" in r["reason"]
    verify = [a for a in r["actions"] if a["step"] == "verify"][0]
    assert verify["md5_verified"] is False and verify["md5_expected"] == CATALOGUE["WS-C2960X-48FPD-L"]["md5"]
    st = switch_state("sw-access-01")
    assert st["running_config"]["boot"] == st["startup_config"]["boot"] == ["flash:" + ACC_OLD]
    assert ACC_NEW not in st["flash"]  # deleted, so it can never be booted later
    assert st["reloads"] == 0 and st["running_image"] == ACC_OLD
    assert not [e for e in switch_events_since_reset("sw-access-01") if "configure terminal" in e]


@pytest.mark.lab
def test_insufficient_flash_is_refused_before_any_copy(fw):
    switch_ctl("inject", "sw-access-01", "flash_free_bytes=4096")
    rc, res = fw("sw-access-01", check=False)
    assert rc != 0
    r = res["sw-access-01"]
    assert r["status"] == "failed" and r["reason"].startswith("insufficient flash"), r
    assert "4096 free" in r["reason"] and "nothing was copied" in r["reason"]
    events = switch_events_since_reset("sw-access-01")
    assert not [e for e in events if "copy" in e], events
    st = switch_state("sw-access-01")
    assert list(st["flash"]) == [ACC_OLD] and st["reloads"] == 0


@pytest.mark.lab
def test_wrong_version_after_reload_rolls_back_and_spares_the_ha_peer(fw):
    switch_ctl("inject", "sw-core-01", "wrong_version_next_reload=true")
    rc, res = fw("ha_core_pair", check=False)
    assert rc != 0
    r = res["sw-core-01"]
    assert r["status"] == "rolled_back", r
    assert "came back on 17.09.04 instead of 17.12.1" in r["reason"] and "verified" in r["reason"]
    assert r["after"]["firmware"] == "17.09.04" and r["rebooted"] is True
    assert "sw-core-02" not in res  # the play stopped before the peer
    st = switch_state("sw-core-01")
    assert st["running_image"] == CORE_OLD and st["reloads"] == 2
    assert st["startup_config"]["boot"] == ["flash:" + CORE_OLD]
    with open(fw.state_dir / "network-firmware" / "sw-core-01.json", encoding="utf-8") as f:
        assert json.load(f)["status"] == "rolled_back"
    assert switch_events_since_reset("sw-core-02") == []  # not even a login

    # A later run on the peer alone is held back while its partner is not verified.
    rc, res = fw("sw-core-02")
    r2 = res["sw-core-02"]
    assert r2["status"] == "skipped" and "sw-core-01 not verified" in r2["reason"], r2
    st2 = switch_state("sw-core-02")
    assert list(st2["flash"]) == [CORE_OLD] and st2["reloads"] == 0


@pytest.mark.lab
def test_switch_back_without_its_interfaces_is_rolled_back(fw):
    switch_ctl("inject", "sw-access-01", "interfaces_down_next_reload=[\"GigabitEthernet1/0/49\"]")
    rc, res = fw("sw-access-01", check=False)
    assert rc != 0
    r = res["sw-access-01"]
    assert r["status"] == "rolled_back", r
    assert "interfaces not up: GigabitEthernet1/0/49" in r["reason"]
    assert "CDP neighbours missing: sw-core-01 on GigabitEthernet1/0/49" in r["reason"]
    st = switch_state("sw-access-01")
    assert st["running_image"] == ACC_OLD and st["interfaces_down"] == []


@pytest.mark.lab
def test_closed_window_stages_but_never_reloads(fw):
    rc, res = fw("sw-access-01", window=False)
    r = res["sw-access-01"]
    assert r["status"] == "skipped" and "maintenance window closed" in r["reason"], r
    st = switch_state("sw-access-01")
    assert ACC_NEW in st["flash"]  # staged and verified...
    assert st["reloads"] == 0 and st["running_config"]["boot"] == ["flash:" + ACC_OLD]  # ...not activated
