"""server_firmware on the lab's Redfish service (sushy-tools' emulator, fake driver, lab/redfish/).

What is real here: community.general's redfish_info/redfish_command speak HTTPS to sushy-tools; the system
inventory (BiosVersion, PowerState), the SimpleUpdate request handling (sushy-tools' own handler: ImageURI
and Targets checked, then the BIOS version raised), the power actions (applied by sushy-tools 1-11 s later)
and the failure answers are sushy-tools'. The lab adds only firmware-version storage to the fake driver
and two failure switches (lab/redfish/emulator.py).

Contract-tested only (the emulator does not do it, so these tests cannot show it):
- image transfer: sushy-tools never downloads ImageURI, so the image's bytes, size and checksum are not
  checked by anything in these tests;
- staging vs activation: sushy-tools changes the version when SimpleUpdate is posted, not at the power
  cycle; the role's order (request, power-cycle, then verify) is exercised, the "only after reboot" effect is not;
- task monitoring: sushy-tools always answers Task 42 "Completed";
- BMC (Manager), NIC and RAID firmware: sushy-tools refuses Manager targets and has no other components.
"""
import json
import os

import pytest
import yaml

from conftest import ROOT, ansible_playbook, json_env, reported_results
from redfish_lab import BMC_PASSWORD, BMC_USER, RUN, UUID, emulator_posts, reset

MODEL = "Lab Server 1"
CATALOGUE = {"bios": {MODEL: {"version": "1.1.0", "version_scheme": "generic", "image": "lab-bios-1.1.0.bin",
                              "size": 4194304, "md5": "5d41402abc4b2a76b9719d911017c592"}}}

PLAYBOOK = """
- name: Server firmware
  hosts: "{{ fw_hosts }}"
  gather_facts: false
  serial: 1
  max_fail_percentage: 0
  tasks:
    - name: Update
      ansible.builtin.include_role:
        name: healthit.patching.server_firmware
"""


@pytest.fixture()
def redfish(tmp_path):
    reset()
    inventory = {"all": {"hosts": {
        name: {"ansible_connection": "local", "ansible_python_interpreter": os.path.join(ROOT, ".venv", "bin", "python"),
               "server_firmware_resource_id": uuid, "server_firmware_model": MODEL}
        for name, uuid in UUID.items()}, "vars": {
        "server_firmware_baseuri": "127.0.0.1:8008", "server_firmware_username": BMC_USER,
        "server_firmware_password": BMC_PASSWORD, "server_firmware_validate_certs": False,
        "server_firmware_catalogue": CATALOGUE, "server_firmware_image_source": "https://127.0.0.1:8443/firmware/",
        "server_firmware_power_delay": 1, "server_firmware_power_retries": 40}}}
    inv = tmp_path / "inventory.yml"
    inv.write_text(yaml.safe_dump(inventory))
    book = tmp_path / "firmware.yml"
    book.write_text(PLAYBOOK)
    evidence = tmp_path / "evidence"
    evidence.mkdir()

    def play(hosts, *extra):
        env = json_env(HEALTHIT_AUDIT_DIR=str(evidence), HEALTHIT_PATCH_STATE_DIR=str(tmp_path / "state"))
        proc = ansible_playbook(str(book), "-i", str(inv), "-e", "fw_hosts=" + hosts, *extra, env=env, check=False)
        results = reported_results(proc.stdout)
        assert results, proc.stdout[-5000:] + proc.stderr[-3000:]
        return proc.returncode, results

    play.evidence = evidence
    yield play
    reset()


def switch(kind, name):
    with open(os.path.join(RUN, "%s-%s" % (kind, name)), "w", encoding="utf-8"):
        pass


@pytest.mark.lab
def test_servers_updated_one_at_a_time_power_cycled_and_verified(redfish):
    rc, res = redfish("srv-01:srv-02")
    assert rc == 0, res
    for name in UUID:
        r = res[name]
        assert r["status"] == "patched", r
        assert r["platform"] == "redfish" and r["baseline_key"] == "firmware:redfish:" + MODEL
        assert r["before"] == {"bios": "1.0.0"} and r["after"] == {"bios": "1.1.0"}
        assert r["rebooted"] is True
        assert [a["step"] for a in r["actions"]] == ["stage", "power_cycle", "verify"]
        assert r["actions"][0]["target"] == "/redfish/v1/Systems/" + UUID[name]
    posts = [p for p, _code in emulator_posts()]
    simple = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"
    reset_of = "/redfish/v1/Systems/%s/Actions/ComputerSystem.Reset"
    # one server at a time: srv-02's update was requested only after srv-01 was power-cycled
    assert posts == [simple, reset_of % UUID["srv-01"], simple, reset_of % UUID["srv-02"]], posts
    # the BMC password never reaches the evidence
    text = "".join(p.read_text() for p in redfish.evidence.glob("*.jsonl"))
    assert "1.1.0" in text and BMC_PASSWORD not in text

    # a second run finds them current and sends nothing
    rc, res = redfish("srv-01:srv-02")
    assert rc == 0 and {r["status"] for r in res.values()} == {"current"}, res
    assert len(emulator_posts()) == 4


@pytest.mark.lab
def test_rejected_update_fails_the_server_and_stops_the_wave(redfish):
    switch("fail-update", "srv-01")
    rc, res = redfish("srv-01:srv-02")
    assert rc != 0
    r = res["srv-01"]
    assert r["status"] == "failed", r
    assert "HTTP Error 500" in r["reason"] and "needs a person" in r["reason"], r["reason"]
    assert r["rebooted"] is False and r["after"] == {"bios": "1.0.0"}
    assert "srv-02" not in res  # max_fail_percentage 0 with serial 1: the next server is never touched
    assert [p for p, code in emulator_posts()] == ["/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"]
    assert emulator_posts()[0][1] == "500"


@pytest.mark.lab
def test_update_that_does_not_take_effect_fails_verification(redfish):
    switch("noop-update", "srv-01")
    rc, res = redfish("srv-01")
    r = res["srv-01"]
    assert rc != 0 and r["status"] == "failed", r
    assert "came back with bios 1.0.0 (power On) instead of 1.1.0" in r["reason"], r["reason"]
    assert r["rebooted"] is True and r["after"] == {"bios": "1.0.0"}


@pytest.mark.lab
def test_uncatalogued_model_is_left_alone(redfish):
    rc, res = redfish("srv-01:srv-02", "-e", json.dumps({"server_firmware_model": "Lab Server 9"}))
    assert rc == 0
    for r in res.values():
        assert r["status"] == "skipped" and r["reason"] == "no catalogue entry for bios of model Lab Server 9", r
    assert emulator_posts() == []


@pytest.mark.lab
def test_check_mode_plans_without_touching_the_bmc(redfish):
    rc, res = redfish("srv-01", "--check")
    assert rc == 0
    assert res["srv-01"]["status"] == "planned" and res["srv-01"]["reason"] == "would update bios 1.0.0 to 1.1.0"
    assert emulator_posts() == []
