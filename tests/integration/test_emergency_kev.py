"""The emergency lane on the lab: a KEV entry, mapped by (lab) Debian tracker data to labpkg-web, makes exactly
the exposed hosts get exactly the fixed version, with the clock and the outcome in the evidence and the history.

Lab data: the catalog is a re-dated copy of the real snapshot (tests/data/kev/lab_catalog.py) so the SLA clock
runs; tests/data/advisories/lab-debian-tracker.json maps CVE-2021-44228 to labpkg-web fixed in 1.1.
Hosts (reset before and after): lnx-expired-01 (business, its exception expired so it is in scope, on 1.0: exposed), lnx-test-02 (low, upgraded to 1.1 first:
not exposed), lnx-prod-03 (business, window lab-closed: exposed, patched outside its window with the emergency
ticket). lnx-exc-01 is under exception EXC-2026-014: reported as a risk, never touched.

Network devices (the lab's fakenos switches, reset before and after through lab/switches/ctl.py, held with its
test lock): CVE-2023-20198 (Cisco IOS XE Web UI, a real KEV entry) is mapped by tests/data/advisories/lab-firmware.json
to the IOS XE train 17.9, first fixed 17.9.4a. The core pair (HA group core-pair) runs 17.09.04: exposed, upgraded
to the catalogue's approved 17.12.1 by network_firmware, one member at a time. sw-access-01 runs IOS 15.2(7)E3, which
the advisory does not list: not exposed, untouched. CVE-2018-0171 with lab-firmware-beyond-catalogue.json (first fixed
15.2(7)E11, newer than the approved 15.2(7)E10) makes sw-access-01 exposed but not patched: approve a fixed image first.
"""
import contextlib
import datetime
import fcntl
import glob
import json
import os
import subprocess
import sys

import pytest

from conftest import (ROOT, ansible_playbook, boot_time, lab_env, package_versions as versions, run, switch_ctl,
                      switch_events_since_reset, switch_state, switches_ctl)
import redfish_lab

pytestmark = pytest.mark.lab

PLAYBOOK = os.path.join(ROOT, "playbooks", "emergency_kev.yml")
# Relative on purpose, as an operator types it: the role reads it from the directory the playbook runs from (ROOT).
TRACKER = os.path.join("tests", "data", "advisories", "lab-debian-tracker.json")
HOSTS = ["lnx-expired-01", "lnx-test-02", "lnx-prod-03"]
CVE = "CVE-2021-44228"
TICKET = "ECHG0042"

SWITCHES = ["sw-core-01", "sw-core-02", "sw-access-01"]
NET_CVE = "CVE-2023-20198"
UNAPPROVED_CVE = "CVE-2018-0171"
FIRMWARE = os.path.join(ROOT, "tests", "data", "advisories", "lab-firmware.json")
FIRMWARE_BEYOND = os.path.join(ROOT, "tests", "data", "advisories", "lab-firmware-beyond-catalogue.json")
CORE_OLD, CORE_NEW = "cat9k_iosxe.17.09.04.SPA.bin", "cat9k_iosxe.17.12.01.SPA.bin"
ACC_OLD = "c2960x-universalk9-mz.152-7.E3.bin"

sys.path.insert(0, os.path.join(ROOT, "tests", "data", "kev"))
from lab_catalog import lab_catalog  # noqa: E402  (test data generator, not a module of the collection)


def container_id(host):
    return subprocess.run(["podman", "inspect", "-f", "{{.Id}}", host], capture_output=True, text=True,
                          check=True, env=lab_env()).stdout.strip()


def undisturbed(scenario):
    """Other tests share the Linux hosts; one that recreated ours mid-run leaves nothing to judge on the host."""
    if scenario["disturbed"]:
        pytest.skip("lab hosts %s were recreated by a concurrent test during the run" % ", ".join(scenario["disturbed"]))


@contextlib.contextmanager
def no_resets():
    """Hold the lab's own Linux lock (lab/linux/common.sh lock_linux) while the playbook runs, so a concurrent
    lab/linux/reset.sh waits instead of recreating our hosts mid-run. Never held around our own resets."""
    os.makedirs(os.path.join(ROOT, ".lab"), exist_ok=True)
    with open(os.path.join(ROOT, ".lab", "linux.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def reset_hosts(*hosts):
    run(["bash", os.path.join(ROOT, "lab", "linux", "reset.sh"), *hosts], timeout=900)


def records(tmp):
    out = []
    for path in sorted(glob.glob(os.path.join(tmp, "evidence", "*.jsonl"))):
        with open(path) as f:
            out.extend(json.loads(line) for line in f if line.strip())
    return out


def last_result_var(recs, name):
    for rec in reversed(recs):
        res = rec.get("result") or {}
        if name in res:
            return res[name]
    raise AssertionError("no %s in the evidence" % name)


def history(tmp, cve=CVE):
    path = os.path.join(tmp, "state", "kev_history", cve + ".jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_catalogs(tmp):
    """The lab catalog, and the 'previous run' copy without CVE-2021-44228, so kev_ids=new finds it."""
    catalog = lab_catalog([CVE, "CVE-2024-1086", NET_CVE, UNAPPROVED_CVE], due_days=2)
    src = os.path.join(tmp, "kev.json")
    with open(src, "w") as f:
        json.dump(catalog, f, indent=2)
    previous = dict(catalog, vulnerabilities=[e for e in catalog["vulnerabilities"] if e["cveID"] != CVE])
    previous["count"] = len(previous["vulnerabilities"])
    os.makedirs(os.path.join(tmp, "state", "kev"), exist_ok=True)
    with open(os.path.join(tmp, "state", "kev", "emergency-last-run.json"), "w") as f:
        json.dump(previous, f)
    return src, catalog


def emergency(tmp, *extra, kev_ids=CVE, ticket=TICKET, hosts=":".join(HOSTS), check=True, lock=True, firmware=None):
    env = lab_env(HEALTHIT_PATCH_STATE_DIR=os.path.join(tmp, "state"), HEALTHIT_AUDIT_DIR=os.path.join(tmp, "evidence"))
    args = ["-e", "kev_ids=%s" % kev_ids, "-e", "patch_change_ticket=%s" % ticket, "-e", "patch_hosts=%s" % hosts,
            "-e", "emergency_kev_catalog_src=%s" % os.path.join(tmp, "kev.json"),
            "-e", "emergency_kev_debian_tracker=%s" % TRACKER, "-e", "patch_batch_size=10", *extra]
    if firmware:
        args += ["-e", "emergency_kev_firmware_advisories=%s" % firmware]
    with (no_resets() if lock else contextlib.nullcontext()):
        return ansible_playbook(PLAYBOOK, *args, env=env, check=check)


def parse(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def scenario(lab, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("emergency"))
    src, catalog = write_catalogs(tmp)
    reset_hosts(*HOSTS)
    try:
        run(["podman", "exec", "lnx-test-02", "sh", "-c",
             "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq labpkg-web=1.1"])
        data = {"tmp": tmp, "catalog": catalog,
                "before": {h: versions(h) for h in HOSTS + ["lnx-exc-01"]},
                "boot_before": {h: boot_time(h) for h in HOSTS}}
        ids = {h: container_id(h) for h in HOSTS + ["lnx-exc-01"]}
        with no_resets():  # the hosts are read inside the lock too
            data["run"] = emergency(tmp, kev_ids="new", lock=False)
            data["after"] = {h: versions(h) for h in HOSTS + ["lnx-exc-01"]}
            data["disturbed"] = sorted(h for h in ids if container_id(h) != ids[h])
        data["boot_after"] = {h: boot_time(h) for h in HOSTS}
        data["evidence"] = records(tmp)
        data["history"] = history(tmp)
        data["again"] = emergency(tmp, kev_ids="new")
        yield data
    finally:
        reset_hosts(*HOSTS)


def test_the_lab_starts_as_the_scenario_needs(scenario):
    before = scenario["before"]
    assert before["lnx-expired-01"] == {"labpkg-web": "1.0", "labpkg-kernel": "1.0", "labpkg-util": "1.0"}
    assert before["lnx-prod-03"] == {"labpkg-web": "1.0", "labpkg-kernel": "1.0", "labpkg-util": "1.0"}
    assert before["lnx-test-02"] == {"labpkg-web": "1.1", "labpkg-kernel": "1.0", "labpkg-util": "1.0"}


def test_new_since_the_last_run_is_the_added_entry(scenario):
    gate = last_result_var(scenario["evidence"], "patch_emergency_gate")
    assert gate["requested"] == ["new"]
    assert gate["kev_ids"] == [CVE]
    assert gate["change_ticket"] == TICKET
    assert gate["catalog"]["version"] == scenario["catalog"]["catalogVersion"]
    assert gate["catalog"]["used_last_known_good"] is False
    assert len(gate["catalog"]["sha256"]) == 64


def test_exposed_hosts_get_exactly_the_fixed_version_and_nothing_else(scenario):
    wave = last_result_var(scenario["evidence"], "patch_summary")
    for host in ("lnx-expired-01", "lnx-prod-03"):
        assert wave["hosts"][host]["status"] == "patched"
        assert wave["hosts"][host]["before"] == {"labpkg-web": "1.0"}
        assert wave["hosts"][host]["after"] == {"labpkg-web": "1.1"}
        assert wave["hosts"][host]["actions"] == ["installed labpkg-web=1.1"]
    assert sorted(wave["hosts"]) == ["lnx-expired-01", "lnx-prod-03"]
    undisturbed(scenario)
    for host in ("lnx-expired-01", "lnx-prod-03"):
        # labpkg-kernel 1.1 is a security update in the same repository: not part of this emergency.
        assert scenario["after"][host] == {"labpkg-web": "1.1", "labpkg-kernel": "1.0", "labpkg-util": "1.0"}, host


def test_a_host_already_fixed_is_not_exposed_and_untouched(scenario):
    undisturbed(scenario)
    assert scenario["after"]["lnx-test-02"] == scenario["before"]["lnx-test-02"]
    assert scenario["boot_after"]["lnx-test-02"] == scenario["boot_before"]["lnx-test-02"]
    plan = last_result_var(scenario["evidence"], "patch_emergency_plan")
    assert plan["not_exposed"] == ["lnx-test-02"]
    assert sorted(plan["patch"]) == ["lnx-expired-01", "lnx-prod-03"]
    assert plan["hosts"]["lnx-expired-01"]["packages"] == {"labpkg-web": "1.1"}
    touched = [r for r in scenario["evidence"] if r.get("host") == "lnx-test-02" and r.get("action") in
               ("healthit.patching.linux_update_plan", "ansible.builtin.apt", "ansible.builtin.reboot")]
    assert touched == []


def test_the_excepted_host_is_a_risk_needing_sign_off_not_patched(scenario):
    undisturbed(scenario)
    assert scenario["after"]["lnx-exc-01"] == scenario["before"]["lnx-exc-01"]
    summary = last_result_var(scenario["evidence"], "patch_emergency_summary")
    risks = {x["host"]: x for x in summary["exceptions"]}
    assert risks["lnx-exc-01"]["exception"] == "EXC-2026-014"
    assert risks["lnx-exc-01"]["needs_sign_off"] is True
    assert risks["lnx-exc-01"]["compensating_controls"] == ["VLAN 312 isolated", "inbound deny except PACS server"]
    assert risks["lnx-exc-01"]["exposure"].startswith("unknown")
    assert risks["lnx-exc-01"]["cves"] == [CVE]
    assert "lnx-exc-01" not in [r["host"] for r in summary["rows"]]
    assert "RISK, NEEDS SIGN-OFF" in scenario["run"].stdout


def test_the_closed_window_host_is_patched_under_the_emergency_ticket(scenario):
    summary = last_result_var(scenario["evidence"], "patch_emergency_summary")
    row = [r for r in summary["rows"] if r["host"] == "lnx-prod-03"][0]
    assert row["window"]["window_open"] is False
    assert 'outside maintenance window "lab-closed"' in row["window"]["reason"]
    assert "allowed by emergency change " + TICKET in row["window"]["reason"]
    assert summary["outside_window"] == ["lnx-prod-03"]
    assert summary["blackout_overrides"] == []


def test_the_clock_and_the_outcome_are_in_the_evidence(scenario):
    summary = last_result_var(scenario["evidence"], "patch_emergency_summary")
    rows = {r["host"]: r for r in summary["rows"]}
    assert sorted(rows) == ["lnx-expired-01", "lnx-prod-03"]
    due_date = [e for e in scenario["catalog"]["vulnerabilities"] if e["cveID"] == CVE][0]["dueDate"]
    due = datetime.datetime.strptime(due_date + "T23:59:59Z", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    for host, row in rows.items():
        assert row["cve"] == CVE and row["criticality"] == "business"
        assert row["status"] == "patched", row
        identified = parse(row["identified"])
        # business = 48 h; the lab entry is due at the end of the day after tomorrow, later than that.
        assert parse(row["deadline"]) == min(identified + datetime.timedelta(hours=48), due)
        assert row["deadline_source"] == "policy"
        assert row["kev_due_date"] == due_date
        assert identified <= parse(row["patched"]) <= parse(row["verified"]) <= parse(row["deadline"])
        assert row["sla"] == "met"
        assert row["still_exposed"] is False
        assert row["fix"] == {"type": "package", "packages": {"labpkg-web": "1.1"}, "release": "bookworm"}
    assert summary["sla_counts"] == {"met": 2}
    assert summary["problems"] == []


def test_the_history_holds_identified_patched_verified(scenario):
    events = {}
    for ev in scenario["history"]:
        events.setdefault(ev["host"], []).append(ev)
    assert sorted(events) == ["lnx-expired-01", "lnx-prod-03"]
    for host, evs in events.items():
        assert [e["event"] for e in evs] == ["identified", "patched", "verified"], host
        assert evs[0]["deadline_source"] == "policy" and evs[0]["criticality"] == "business"
        assert evs[1]["status"] == "patched" and evs[1]["after"] == {"labpkg-web": "1.1"}
        assert evs[2]["sla"] == "met"


def test_a_second_new_run_finds_nothing_new(scenario):
    proc = scenario["again"]
    gate = last_result_var(records(scenario["tmp"]), "patch_emergency_gate")
    assert gate["kev_ids"] == []
    assert "no exposed host in scope" in proc.stdout
    assert len(history(scenario["tmp"])) == len(scenario["history"])


@pytest.mark.parametrize("extra, ticket, kev_ids, message", [
    ([], "none", CVE, "an emergency change ticket"),
    ([], TICKET, "CVE-1999-0001", "not in the KEV catalog"),
    ([], TICKET, "log4shell", "kev_ids=CVE-YYYY-NNNN"),
    (["-e", "emergency_override_blackout=true"], TICKET, CVE, "give the reason with -e emergency_override_blackout_reason"),
], ids=["no-ticket", "not-in-catalog", "not-a-cve", "override-without-reason"])
def test_the_gate_refuses_before_touching_any_host(lab, tmp_path, extra, ticket, kev_ids, message):
    tmp = str(tmp_path)
    write_catalogs(tmp)
    proc = emergency(tmp, *extra, ticket=ticket, kev_ids=kev_ids, hosts="lnx-expired-01", check=False)
    assert proc.returncode != 0
    assert message in proc.stdout
    assert "Installed packages, KBs or running firmware" not in proc.stdout
    assert history(tmp) == []


def test_blackouts_are_honoured_unless_overridden_with_a_reason(lab, tmp_path):
    tmp = str(tmp_path)
    write_catalogs(tmp)
    reset_hosts("lnx-prod-03")
    before_id = container_id("lnx-prod-03")
    try:
        blackout = json.dumps({"patch_blackouts": [{"name": "North clinic EHR go-live", "start": "2000-01-01 00:00",
                                                    "end": "2099-01-01 00:00", "sites": ["north-clinic"]}]})
        with no_resets():
            first = emergency(tmp, "-e", blackout, hosts="lnx-prod-03", check=False, lock=False)
            if container_id("lnx-prod-03") != before_id:
                pytest.skip("lnx-prod-03 was recreated by a concurrent test during the run")
            assert first.returncode == 0, first.stdout[-3000:]
            assert versions("lnx-prod-03")["labpkg-web"] == "1.0"
        summary = last_result_var(records(tmp), "patch_emergency_summary")
        row = summary["rows"][0]
        assert row["status"] == "skipped" and row["sla"] == "open"
        assert 'inside clinical blackout "North clinic EHR go-live"' in row["reason"]
        assert [e["event"] for e in history(tmp)] == ["identified", "patch_failed"]

        reason = "CISO approved 2026-11-22: exploitation seen at a peer hospital"
        override = json.dumps({"emergency_override_blackout": True, "emergency_override_blackout_reason": reason})
        with no_resets():
            second = emergency(tmp, "-e", blackout, "-e", override, hosts="lnx-prod-03", check=False, lock=False)
            if container_id("lnx-prod-03") != before_id:
                pytest.skip("lnx-prod-03 was recreated by a concurrent test during the run")
            assert second.returncode == 0, second.stdout[-3000:]
            assert versions("lnx-prod-03")["labpkg-web"] == "1.1"
        summary = last_result_var(records(tmp), "patch_emergency_summary")
        assert summary["blackout_overrides"] == ["lnx-prod-03"]
        window = last_result_var(records(tmp), "patch_emergency_window")
        assert window["blackout_overridden"] is True and window["override_reason"] == reason
        assert window["blackout"]["name"] == "North clinic EHR go-live"
        events = history(tmp)
        assert [e["event"] for e in events] == ["identified", "patch_failed", "patched", "verified"]
        # The clock kept its first identification: the second run did not restart it.
        assert summary["rows"][0]["identified"] == events[0]["at"]
    finally:
        reset_hosts("lnx-prod-03")


# ---------------------------------------------------------------- network devices


READ_ONLY = ("show ", "terminal ", "enable", "disable", "exit", "<answer>")


def changes_since_reset(name):
    """The switch's recorded events since the last lab reset, except read-only commands (show, terminal, enable):
    every copy, verify, configuration, save, boot change, reload or delete the switch saw."""
    events = switch_events_since_reset(name)
    return [e for e in events if not (e.startswith("cmd[") and e.split("] ", 1)[-1].startswith(READ_ONLY))]


@pytest.fixture(scope="module")
def network(lab, tmp_path_factory):
    """Fresh switches; one emergency run for the IOS XE CVE over all three; the switches reset afterwards."""
    tmp = str(tmp_path_factory.mktemp("emergency-network"))
    catalog = write_catalogs(tmp)[1]
    with switches_ctl.exclusive():
        switch_ctl("reset")
        try:
            data = {"tmp": tmp, "catalog": catalog, "before": {h: switch_state(h) for h in SWITCHES}}
            data["run"] = emergency(tmp, kev_ids=NET_CVE, hosts=":".join(SWITCHES), firmware=FIRMWARE, check=False)
            data["after"] = {h: switch_state(h) for h in SWITCHES}
            data["changes"] = {h: changes_since_reset(h) for h in SWITCHES}
            data["evidence"] = records(tmp)
            data["history"] = history(tmp, NET_CVE)
            yield data
        finally:
            switch_ctl("reset")


def test_network_run_ends_clean(network):
    proc = network["run"]
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    summary = last_result_var(network["evidence"], "patch_emergency_summary")
    assert summary["problems"] == []


def test_network_exposure_follows_the_advisory_and_the_catalogue(network):
    before = network["before"]
    assert before["sw-core-01"]["running_image"] == before["sw-core-02"]["running_image"] == CORE_OLD
    assert before["sw-access-01"]["running_image"] == ACC_OLD
    plan = last_result_var(network["evidence"], "patch_emergency_plan")
    assert sorted(plan["patch"]) == ["sw-core-01", "sw-core-02"]
    assert plan["not_exposed"] == ["sw-access-01"]
    for host in ("sw-core-01", "sw-core-02"):
        entry = plan["hosts"][host]
        assert entry["action"] == "patch" and entry["platform"] == "ios"
        assert entry["image"] == {"platform": "iosxe", "train": "17.9", "version": "17.9.4a"}
        # The fix is the approved catalogue target (at or above the first fixed release), not the advisory's version.
        assert entry["firmware_target"] == "17.12.1"
        assert entry["reason"] == "install exactly ios 17.12.1"


def test_exposed_switches_are_upgraded_one_ha_member_at_a_time(network):
    for host in ("sw-core-01", "sw-core-02"):
        st = network["after"][host]
        assert st["running_image"] == CORE_NEW, host
        assert st["startup_config"]["boot"] == ["flash:" + CORE_NEW, "flash:" + CORE_OLD], host
        assert st["reloads"] == 1, host
    # HA slots: sw-core-02 reloaded only after sw-core-01 was back on the new image.
    first_boot = [h["time"] for h in network["after"]["sw-core-01"]["history"] if h["event"].startswith("booted")][0]
    second_reload = [h["time"] for h in network["after"]["sw-core-02"]["history"]
                     if h["event"].startswith("reload requested")][0]
    assert first_boot < second_reload
    wave = last_result_var(network["evidence"], "patch_summary")
    assert sorted(wave["hosts"]) == ["sw-core-01", "sw-core-02"]
    results = {}
    for rec in network["evidence"]:
        res = (rec.get("result") or {}).get("patch_result")
        if rec.get("host") in ("sw-core-01", "sw-core-02") and res and res.get("status") == "patched":
            results[rec["host"]] = res
    for host in ("sw-core-01", "sw-core-02"):
        r = results[host]
        assert r["before"]["firmware"] == "17.09.04" and r["after"]["firmware"] == "17.12.01", r
        assert r["rebooted"] is True
        steps = [a["step"] for a in r["actions"]]
        assert steps == ["check", "verify_image", "stage", "verify_image", "backup", "boot", "verify"], steps
        assert all(a["md5_verified"] for a in r["actions"] if a["step"] in ("verify_image", "stage"))
    # The emergency window decision let both reload (window lab-open, no blackout).
    windows = {rec["host"]: rec["result"]["patch_emergency_window"] for rec in network["evidence"]
               if "patch_emergency_window" in (rec.get("result") or {})}
    assert windows["sw-core-01"]["allowed"] is True and windows["sw-core-02"]["allowed"] is True


def test_the_unexposed_switch_is_untouched(network):
    assert network["changes"]["sw-access-01"] == []
    st = network["after"]["sw-access-01"]
    assert st["running_image"] == ACC_OLD and st["reloads"] == 0
    assert list(st["flash"]) == list(network["before"]["sw-access-01"]["flash"])
    assert "sw-access-01" not in [r["host"] for r in last_result_var(network["evidence"], "patch_emergency_summary")["rows"]]


def test_the_clock_closes_from_the_running_version_read_again(network):
    summary = last_result_var(network["evidence"], "patch_emergency_summary")
    rows = {r["host"]: r for r in summary["rows"]}
    assert sorted(rows) == ["sw-core-01", "sw-core-02"]
    due_date = [e for e in network["catalog"]["vulnerabilities"] if e["cveID"] == NET_CVE][0]["dueDate"]
    due = parse(due_date + "T23:59:59Z")
    for host, row in rows.items():
        assert row["cve"] == NET_CVE and row["criticality"] == "clinical_critical"
        assert row["status"] == "patched", row
        assert row["reason"] == "upgraded 17.09.04 -> 17.12.01, verified"
        assert row["fix"] == {"type": "image", "platform": "iosxe", "train": "17.9", "version": "17.9.4a"}
        identified = parse(row["identified"])
        # clinical_critical = 24 h, earlier than the lab entry's due date.
        assert parse(row["deadline"]) == min(identified + datetime.timedelta(hours=24), due)
        assert row["deadline_source"] == "policy"
        assert identified <= parse(row["patched"]) <= parse(row["verified"]) <= parse(row["deadline"])
        assert row["still_exposed"] is False
        # Read again from the device: 17.12.01 is in a train the advisory does not list as affected.
        assert row["after"] == "train 17.12 is not listed as affected by %s" % NET_CVE, row["after"]
        assert row["sla"] == "met"
    assert summary["sla_counts"] == {"met": 2}
    events = {}
    for ev in network["history"]:
        events.setdefault(ev["host"], []).append(ev)
    assert sorted(events) == ["sw-core-01", "sw-core-02"]
    for host, evs in events.items():
        assert [e["event"] for e in evs] == ["identified", "patched", "verified"], host
        assert evs[1]["status"] == "patched" and evs[1]["after"]["firmware"] == "17.12.01"
        assert evs[2]["sla"] == "met"
    out = network["run"].stdout
    assert "sw-core-01" in out and "sw-access-01     not exposed" in out


@pytest.mark.parametrize("cve, host, image, target, reason", [
    (UNAPPROVED_CVE, "sw-access-01", "15.2(7)E11", "15.2(7)E10",
     "not patched: the approved firmware target 15.2(7)E10 is older than the first fixed 15.2(7)E11: "
     "approve a fixed image first"),
    (NET_CVE, "sw-core-01", "17.9.4a", "17.12.1",
     "not patched: the approved firmware target 17.12.1 is not known to be fixed: " + NET_CVE
     + ": iosxe 17.12.1 older than first fixed 17.12.2 in train 17.12: approve a fixed image first"),
], ids=["target-older-than-first-fixed", "target-in-an-affected-train"])
def test_a_catalogue_target_that_does_not_fix_is_refused(lab, tmp_path, cve, host, image, target, reason):
    """lab-firmware-beyond-catalogue.json: fixes newer than the catalogue approves. Nothing may change on the switch."""
    tmp = str(tmp_path)
    write_catalogs(tmp)
    with switches_ctl.exclusive():
        switch_ctl("reset")
        try:
            before = switch_state(host)
            proc = emergency(tmp, kev_ids=cve, hosts=host, firmware=FIRMWARE_BEYOND, check=False)
            changes = changes_since_reset(host)
            st = switch_state(host)
        finally:
            switch_ctl("reset")
    assert proc.returncode == 0, proc.stdout[-8000:]
    recs = records(tmp)
    plan = last_result_var(recs, "patch_emergency_plan")
    entry = plan["hosts"][host]
    assert entry["action"] == "report" and plan["patch"] == []
    assert entry["image"]["version"] == image and entry["firmware_target"] == target
    assert entry["reason"] == reason
    # No change on the device: no copy, no verify, no boot variable, no reload.
    assert changes == []
    assert st["running_image"] == before["running_image"] and st["reloads"] == 0
    assert list(st["flash"]) == list(before["flash"])
    summary = last_result_var(recs, "patch_emergency_summary")
    row = summary["rows"][0]
    assert row["host"] == host and row["status"] == "not_patched" and row["sla"] == "open"
    assert row["reason"] == reason
    assert summary["problems"] == []
    # The clock runs: identified, nothing else.
    assert [e["event"] for e in history(tmp, cve)] == ["identified"]
    assert "approve a fixed image first" in proc.stdout


BMC_CVE = "CVE-2024-54085"  # AMI MegaRAC SPx Redfish authentication bypass (a real KEV entry; lab trains)


@pytest.mark.lab
def test_server_bmcs_are_read_over_redfish_and_an_exposed_one_is_tracked_not_touched(lab, tmp_path):
    """srv-01's BMC runs 13.4.0 (train 13, first fixed 13.5.0 in lab-firmware.json), srv-02's 13.5.0."""
    tmp = str(tmp_path)
    with open(os.path.join(tmp, "kev.json"), "w") as f:
        json.dump(lab_catalog([BMC_CVE], due_days=2), f)
    redfish_lab.reset()
    before = {name: (redfish_lab.bmc(name), redfish_lab.bios(name)) for name in ("srv-01", "srv-02")}
    proc = emergency(tmp, kev_ids=BMC_CVE, hosts="srv-01:srv-02", firmware=FIRMWARE, check=False)
    after = {name: (redfish_lab.bmc(name), redfish_lab.bios(name)) for name in ("srv-01", "srv-02")}
    posts = redfish_lab.emulator_posts()
    assert before["srv-01"][0] == ("13.4.0", "Lab MegaRAC SP-X") and before["srv-02"][0][0] == "13.5.0"
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    recs = records(tmp)
    plan = last_result_var(recs, "patch_emergency_plan")
    assert plan["unknown"] == [], plan["unknown"]
    assert plan["not_exposed"] == ["srv-02"]
    entry = plan["hosts"]["srv-01"]
    assert entry["exposed"] == [BMC_CVE] and plan["patch"] == []
    assert entry["action"] == "report"
    assert entry["image"] == {"platform": "bmc", "train": "13", "version": "13.5.0"}
    assert entry["reason"] == ("not patched: BMC firmware is found and tracked by this lane, not updated: update the "
                               "BMC (Lab MegaRAC SP-X) to 13.5.0 or later with the vendor tool, then run this lane "
                               "again to verify")
    # Read only: no update, no power action, the same versions after.
    assert posts == [] and after == before
    summary = last_result_var(recs, "patch_emergency_summary")
    rows = {row["host"]: row for row in summary["rows"]}
    assert rows["srv-01"]["status"] == "not_patched" and rows["srv-01"]["sla"] == "open"
    # The clock runs for the exposed BMC only.
    assert [(e["host"], e["event"]) for e in history(tmp, BMC_CVE)] == [("srv-01", "identified")]
