"""Server firmware (platform redfish) in the monthly wave, from the lab CMDB (inventories/lab).

srv-01 (wave test) and srv-02 (wave production) are CMDB rows whose address is the BMC's; group_vars/redfish.yml
and host_vars/srv-0N.yml give the role the rest. The wave runs as users run it (playbooks/monthly_wave.yml, the lab
inventory, the audit callback), restricted with patch_hosts to the servers so the Linux hosts are not reset. What
the emulator does and does not emulate is in test_server_firmware.py and docs/server-firmware.md.
"""
import json
import os

import pytest

from conftest import ROOT, ansible_adhoc, ansible_playbook, lab_env
from redfish_lab import BMC_PASSWORD, RESET_OF, SIMPLE_UPDATE, UUID, bios, emulator_posts, reset

pytestmark = pytest.mark.lab

PLAYBOOK = os.path.join(ROOT, "playbooks", "monthly_wave.yml")
KEY = "firmware:redfish:Lab Server 1"


def wave(tmp, wave_name, *extra, ticket="CHG0042"):
    env = lab_env(HEALTHIT_PATCH_STATE_DIR=os.path.join(tmp, "state"), HEALTHIT_AUDIT_DIR=os.path.join(tmp, "evidence"))
    os.makedirs(os.path.join(tmp, "evidence"), exist_ok=True)
    return ansible_playbook(PLAYBOOK, "-e", "patch_wave=" + wave_name, "-e", "patch_change_ticket=" + ticket,
                            "-e", "patch_hosts=srv-*", "-e", "patch_batch_size=10", *extra, env=env, check=False)


def evidence(tmp):
    records = []
    folder = os.path.join(tmp, "evidence")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".jsonl"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                records.extend(json.loads(line) for line in handle if line.strip())
    return records


def evidence_text(tmp):
    folder = os.path.join(tmp, "evidence")
    return "".join(open(os.path.join(folder, n), encoding="utf-8").read() for n in os.listdir(folder))


def summaries(records):
    return [(r.get("result") or {})["patch_summary"] for r in records if "patch_summary" in (r.get("result") or {})]


def write_baseline(tmp, content):
    from ansible_collections.healthit.patching.plugins.module_utils import _baseline
    record = _baseline.build({"srv-01": {"status": "patched", "baseline_key": sorted(content)[0],
                                         "after": content[sorted(content)[0]]}}, 0.9, "2026-01-01T00:00:00Z")
    folder = os.path.join(tmp, "state", "baselines")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "latest.json"), "w", encoding="utf-8") as handle:
        json.dump(record, handle)


@pytest.fixture(scope="module")
def cycle(lab, tmp_path_factory):
    """A month's cycle for the servers: the test wave, then production from its baseline."""
    tmp = str(tmp_path_factory.mktemp("redfish-wave"))
    reset()
    data = {"tmp": tmp, "before": {s: bios(s) for s in UUID}}
    data["test_run"] = wave(tmp, "test")
    data["after_test"] = {s: bios(s) for s in UUID}
    data["posts_test"] = emulator_posts()
    with open(os.path.join(tmp, "state", "baselines", "latest.json"), encoding="utf-8") as handle:
        data["baseline"] = json.load(handle)
    data["prod_run"] = wave(tmp, "production", ticket="CHG0043")
    data["after_prod"] = {s: bios(s) for s in UUID}
    data["posts"] = emulator_posts()
    data["evidence"] = evidence(tmp)
    data["summaries"] = summaries(data["evidence"])
    yield data
    reset()


def test_test_wave_updates_srv01_and_leaves_production_alone(cycle):
    run = cycle["test_run"]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert cycle["before"] == {"srv-01": "1.0.0", "srv-02": "1.0.0"}
    # read back from the emulator, not from what Ansible says
    assert cycle["after_test"] == {"srv-01": "1.1.0", "srv-02": "1.0.0"}
    assert [p for p, _code in cycle["posts_test"]] == [SIMPLE_UPDATE, RESET_OF % UUID["srv-01"]]
    summary = cycle["summaries"][0]
    assert summary["wave"] == "test" and set(summary["hosts"]) == {"srv-01"}
    host = summary["hosts"]["srv-01"]
    assert (host["platform"], host["status"], host["owner"]) == ("redfish", "patched", "infra-servers"), host
    assert host["before"] == {"bios": "1.0.0"} and host["after"] == {"bios": "1.1.0"} and host["rebooted"] is True


def test_test_wave_baseline_holds_the_validated_firmware(cycle):
    baseline = cycle["baseline"]
    assert baseline["status"] == "passed", baseline
    assert baseline["content"] == {KEY: {"bios": "1.1.0"}}
    assert baseline["hosts"]["srv-01"]["baseline_key"] == KEY


def test_production_updates_srv02_to_the_validated_version(cycle):
    run = cycle["prod_run"]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert cycle["after_prod"] == {"srv-01": "1.1.0", "srv-02": "1.1.0"}
    expected = [SIMPLE_UPDATE, RESET_OF % UUID["srv-01"], SIMPLE_UPDATE, RESET_OF % UUID["srv-02"]]
    assert [p for p, _code in cycle["posts"]] == expected
    summary = cycle["summaries"][-1]
    assert summary["wave"] == "production" and set(summary["hosts"]) == {"srv-02"}
    host = summary["hosts"]["srv-02"]
    assert host["status"] == "patched" and host["reason"] == "bios 1.0.0 -> 1.1.0 verified", host
    assert "srv-02             patched      bios 1.0.0 -> 1.1.0 verified" in run.stdout


def test_preflight_applies_the_window_and_says_the_os_checks_do_not_apply(cycle):
    said = [r for r in cycle["evidence"] if r.get("type") == "host_result" and r.get("host") in UUID
            and r.get("task", "").endswith("Say which checks do not apply to a host without an OS session")]
    assert sorted(r["host"] for r in said) == ["srv-01", "srv-02"]
    for record in said:
        msg = record["result"]["msg"]
        assert msg.startswith("OS checks skipped for platform redfish (free disk, package-manager lock"), msg
        assert "no OS session" in msg and "clinical blackout checks applied" in msg
    os_tasks = [r for r in cycle["evidence"] if r.get("host") in UUID and r.get("type") == "host_result"
                and "preflight" in r.get("task", "") and "free space" in r.get("task", "")
                and r.get("status") != "skipped"]
    assert os_tasks == []
    assert "OS checks skipped for platform redfish" in cycle["test_run"].stdout


def test_bmc_password_never_reaches_the_evidence_or_the_output(cycle):
    text = evidence_text(cycle["tmp"])
    assert "1.1.0" in text and "srv-02" in text
    assert BMC_PASSWORD not in text
    assert BMC_PASSWORD not in cycle["test_run"].stdout + cycle["prod_run"].stdout


def test_evidence_of_both_waves_verifies(cycle):
    result = ansible_adhoc("localhost", "healthit.patching.audit_verify",
                           "path=%s" % os.path.join(cycle["tmp"], "evidence"))["localhost"]
    assert result["verified"] is True
    assert result["summary"] == {"verified": 2, "incomplete": 0, "tampered": 0}


@pytest.fixture()
def servers(lab):
    reset()
    yield
    reset()


def test_production_installs_only_the_validated_version_when_the_catalogue_moved(servers, tmp_path):
    write_baseline(str(tmp_path), {KEY: {"bios": "1.1.0"}})
    newer = {"server_firmware_catalogue": {"bios": {"Lab Server 1": {
        "version": "1.2.0", "version_scheme": "generic", "image": "lab-bios-1.2.0.bin", "size": 4194304,
        "md5": "7d793037a0760186574b0282f2f435e7"}}}}
    proc = wave(str(tmp_path), "production", "-e", json.dumps(newer))
    assert proc.returncode == 0, proc.stdout[-6000:]
    host = summaries(evidence(str(tmp_path)))[-1]["hosts"]["srv-02"]
    assert host["status"] == "skipped", host
    assert host["reason"] == ("the catalogue's bios for model Lab Server 1 is 1.2.0 but the test wave validated 1.1.0: "
                              "production installs only the validated version")
    assert emulator_posts() == [] and bios("srv-02") == "1.0.0"


def test_production_refuses_a_model_the_test_wave_did_not_validate(servers, tmp_path):
    write_baseline(str(tmp_path), {"linux:debian:bookworm": {"labpkg-web": "1.1"}})
    proc = wave(str(tmp_path), "production")
    assert proc.returncode == 0, proc.stdout[-6000:]
    host = summaries(evidence(str(tmp_path)))[-1]["hosts"]["srv-02"]
    assert host["status"] == "skipped", host
    assert "the baseline holds no bios for " + KEY in host["reason"], host["reason"]
    assert emulator_posts() == [] and bios("srv-02") == "1.0.0"


def test_clinical_blackout_refuses_the_server(servers, tmp_path):
    blackout = {"patch_blackouts": [{"name": "EHR go-live", "start": "2000-01-01 00:00", "end": "2099-01-01 00:00",
                                     "sites": ["main-campus"]}]}
    proc = wave(str(tmp_path), "test", "-e", json.dumps(blackout))
    host = summaries(evidence(str(tmp_path)))[-1]["hosts"]["srv-01"]
    assert host["status"] == "skipped", host
    assert 'inside clinical blackout "EHR go-live"' in host["reason"], host["reason"]
    assert emulator_posts() == [] and bios("srv-01") == "1.0.0"
    assert proc.returncode == 0


def test_wrong_bmc_password_fails_the_server_without_showing_it(servers, tmp_path):
    wrong = "not-the-lab-bmc-password"
    proc = wave(str(tmp_path), "test", "-e", "server_firmware_password=" + wrong)
    assert proc.returncode != 0, "a failed server must make the run fail"
    host = summaries(evidence(str(tmp_path)))[-1]["hosts"]["srv-01"]
    assert host["status"] == "failed", host
    assert "401" in host["reason"], host["reason"]
    assert emulator_posts() == [] and bios("srv-01") == "1.0.0"
    assert wrong not in evidence_text(str(tmp_path))
