"""playbooks/clinical_app.yml on the lab: a vendor-approved clinical application update run the way a user runs it.

`ansible-playbook healthit.patching.clinical_app -e clinical_app=labapp-ehr -e patch_change_ticket=...` with the lab
inventory (inventories/lab: lnx-test-01/02 declare labapp-ehr in their host_vars) and an approval register written
by each test. labapp-ehr is the dummy vendor package of lab/clinical_app/build.sh (1.0 and 1.1; a service answering
/health on 127.0.0.1:8090). Every test starts from freshly reset lnx-test-01/02 where it changes them, and reads
the hosts themselves (dpkg, the running service's answer) and the run's audit evidence.
"""
import datetime
import json
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _compliance
from clinical_lab import HOSTS, build_packages, health, installed, on_host, record, reset_hosts
from conftest import ROOT, ansible_playbook, json_env

pytestmark = pytest.mark.lab

INVENTORY = os.path.join(ROOT, "inventories", "lab", "lab.patch_inventory.yml")
PLAYBOOK = os.path.join(ROOT, "playbooks", "clinical_app.yml")


class Run:
    """One playbook run: return code, the records the playbook printed, and the output for failure messages."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.text = proc.stdout[-6000:] + proc.stderr[-3000:]
        self.results, self.scope, self.summary, self.failures = {}, None, None, []
        for play in json.loads(proc.stdout)["plays"]:
            for task in play["tasks"]:
                for host, res in task["hosts"].items():
                    if "patch_result" in res:
                        self.results[host] = res["patch_result"]
                    if "patch_clinical_app_scope" in res:
                        self.scope = res["patch_clinical_app_scope"]
                    if "patch_summary" in res:
                        self.summary = res["patch_summary"]
                    if res.get("failed"):
                        self.failures.append(res.get("msg", ""))

    def status(self):
        return {h: (r["status"], r["reason"]) for h, r in self.results.items()}


@pytest.fixture(scope="module")
def packages(lab):
    yield build_packages()[1]
    reset_hosts()  # others use these hosts too: leave them as the lab made them


@pytest.fixture()
def app(packages, tmp_path):
    """app(*extra_args, approvals=..., register_text=...) -> Run of playbooks/clinical_app.yml on the lab."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()

    def play(*args, approvals=None, register_text=None, ticket="CHG-2026-0042"):
        register = tmp_path / "approvals.yml"
        register.write_text(register_text if register_text is not None
                            else yaml.safe_dump({"approvals": approvals or []}, sort_keys=False))
        env = json_env(HEALTHIT_AUDIT_DIR=str(evidence), HEALTHIT_PATCH_STATE_DIR=str(tmp_path / "state"))
        argv = ["-i", INVENTORY, "-e", "clinical_app=labapp-ehr", "-e", "clinical_app_register=" + str(register),
                "-e", "clinical_app_downtime_budget_minutes=30"]
        if ticket:
            argv += ["-e", "patch_change_ticket=" + ticket]
        return Run(ansible_playbook(PLAYBOOK, *argv, *args, env=env, check=False))

    play.sums = packages
    play.evidence = evidence
    return play


def both_on_10(app):
    """Fresh hosts, then labapp-ehr 1.0 installed on both through the playbook (a first installation)."""
    reset_hosts()
    res = app("-e", "clinical_app_version=1.0", approvals=[record("APR-10", "1.0", app.sums["1.0"], hosts=["lnx-test-*"])])
    assert res.rc == 0 and res.status() == {h: ("patched", res.results[h]["reason"]) for h in HOSTS}, res.text
    return res


def test_approved_update_is_installed_on_the_hosts_in_scope(app):
    both_on_10(app)
    for host in HOSTS:
        assert installed(host) == "1.0" and health(host) == "labapp-ehr 1.0 ok"

    # APR-11 covers the whole test wave group; only the hosts whose inventory runs labapp-ehr are in scope.
    approvals = [record("APR-10", "1.0", app.sums["1.0"], hosts=["lnx-test-*"]),
                 record("APR-11", "1.1", app.sums["1.1"], groups=["wave_test"], change_request="CHG-2026-0042")]
    res = app(approvals=approvals)
    assert res.rc == 0, res.text
    assert res.scope["hosts"] == list(HOSTS)
    assert {"kvm-01", "sw-access-01"} <= set(res.scope["covered_not_configured"])
    assert res.scope["configured_not_covered"] == {}
    assert set(res.results) == set(HOSTS), "nothing else was touched: %s" % res.status()
    for host in HOSTS:
        r = res.results[host]
        assert r["status"] == "patched", r
        assert r["baseline_key"] == "app:labapp-ehr" and r["platform"] == "linux"
        assert r["before"] == {"labapp-ehr": "1.0"} and r["after"] == {"labapp-ehr": "1.1"}
        assert r["approval"]["id"] == "APR-11" and "approved by APR-11" in r["reason"]
        assert installed(host) == "1.1" and health(host) == "labapp-ehr 1.1 ok"
    assert res.summary["wave"] == "app:labapp-ehr" and res.summary["change_ticket"] == "CHG-2026-0042"
    assert res.summary["counts"] == {"patched": 2} and not res.summary["halted"]
    # lnx-exc-01 is under an active exception: not in the inventory, listed as excluded.
    assert [x["host"] for x in res.summary["excluded_by_exception"]] == ["lnx-exc-01"]

    # The compliance report reads the verified evidence and keys the run as the application, not the OS.
    files = _compliance.load_evidence(str(app.evidence))
    assert files and all(f.verified for f in files), [(f.name, f.reason) for f in files]
    runs = [r for f in files for r in f.runs if r.complete]
    last = max(runs, key=lambda r: r.started)
    assert last.playbook.endswith("clinical_app.yml") and last.ticket == "CHG-2026-0042"
    for host in HOSTS:
        outcome = last.hosts[host]
        assert outcome["status"] == "patched" and outcome["after"] == {"labapp-ehr": "1.1"}
        assert _compliance.outcome_component(outcome, "linux") == "app:labapp-ehr"

    # a second run finds both current and changes nothing
    res = app(approvals=approvals)
    assert res.rc == 0 and {h: s for h, (s, _r) in res.status().items()} == {h: "current" for h in HOSTS}, res.text


def test_hosts_outside_their_window_or_in_a_blackout_are_refused_with_the_reason(app):
    reset_hosts()
    approvals = [record("APR-11", "1.1", app.sums["1.1"], hosts=["lnx-test-01", "lnx-test-02"])]
    # A clinical blackout at lnx-test-02's site (north-clinic); lnx-test-01 (main-campus) goes ahead.
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    end = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    blackouts = json.dumps({"patch_blackouts": [{"name": "north clinic go-live", "start": start, "end": end,
                                                 "timezone": "UTC", "sites": ["north-clinic"]}]})
    res = app("-e", blackouts, approvals=approvals)
    assert res.rc == 0, res.text  # a refusal is a skip, not a failure
    assert res.results["lnx-test-01"]["status"] == "patched", res.status()
    r2 = res.results["lnx-test-02"]
    assert r2["status"] == "skipped" and r2["baseline_key"] == "app:labapp-ehr", r2
    assert r2["reason"].startswith("refused by preflight: ") and "north clinic go-live" in r2["reason"], r2["reason"]
    assert installed("lnx-test-01") == "1.1" and installed("lnx-test-02") is None

    # The CMDB names a window that is closed now (lab-closed never opens): refused, nothing installed.
    res = app("-e", "patch_hosts=lnx-test-02", "-e", "patch_window=lab-closed", approvals=approvals)
    assert res.rc == 0, res.text
    assert list(res.results) == ["lnx-test-02"]
    r2 = res.results["lnx-test-02"]
    assert r2["status"] == "skipped" and "lab-closed" in r2["reason"], r2
    assert installed("lnx-test-02") is None
    assert res.summary["hosts"]["lnx-test-02"]["status"] == "skipped"


def test_no_ticket_or_no_valid_register_is_refused_and_a_rehearsal_changes_nothing(app):
    approvals = [record("APR-11", "1.1", app.sums["1.1"], hosts=["lnx-test-01", "lnx-test-02"])]
    before = {h: installed(h) for h in HOSTS}
    cases = [
        ("no ticket", dict(ticket=None, approvals=approvals), "patch_change_ticket="),
        ("not a change ticket", dict(ticket="please", approvals=approvals), "patch_change_ticket=please"),
        ("invalid register", dict(register_text=yaml.safe_dump({"approvals": approvals}, sort_keys=False)
                                  .replace("downtime_minutes: 10", "downtime_minutes: ten")),
         "field 'downtime_minutes'"),
        ("nothing in scope", dict(approvals=[record("APR-L", "1.1", app.sums["1.1"], product="labapp-lis",
                                                    hosts=["lnx-test-01"])]),
         "No host is in scope for labapp-ehr"),
    ]
    for name, kwargs, needle in cases:
        res = app(**kwargs)
        assert res.rc != 0, name
        assert res.results == {}, (name, res.status())  # no host was even contacted
        assert any(needle in m and "Nothing was changed" in m for m in res.failures), (name, res.failures)
    assert {h: installed(h) for h in HOSTS} == before

    # The rehearsal AWX runs before its approval node (check mode): the same decisions, nothing installed.
    res = app("--check", approvals=approvals)
    assert res.rc == 0, res.text
    for host in HOSTS:
        r = res.results[host]
        if before[host] == "1.1":
            assert r["status"] == "current", r
        else:
            assert r["status"] == "planned" and r["reason"].startswith("would install labapp-ehr 1.1: approved by APR-11"), r
    assert {h: installed(h) for h in HOSTS} == before


def test_failing_post_check_rolls_back_and_the_summary_says_so(app):
    both_on_10(app)
    on_host("lnx-test-01", "sh", "-c", "echo 1.1 > /etc/labapp-ehr/break-version")
    approvals = [record("APR-11", "1.1", app.sums["1.1"], hosts=["lnx-test-01", "lnx-test-02"])]

    # One at a time (batch 1): lnx-test-01 fails its post check and is rolled back; 1 of 2 failed is above the
    # lab's 34%, so the run halts and lnx-test-02 is left alone.
    res = app(approvals=approvals)
    assert res.rc != 0, res.text
    r1, r2 = res.results["lnx-test-01"], res.results["lnx-test-02"]
    assert r1["status"] == "rolled_back" and "rolled back to labapp-ehr 1.0" in r1["reason"], r1
    assert "post check failed: http://127.0.0.1:8090/health answered 503" in r1["reason"]
    assert r1["baseline_key"] == "app:labapp-ehr"
    assert r2["status"] == "skipped" and r2["reason"].startswith("wave halted: 1 of 2 hosts failed (lnx-test-01)"), r2
    assert res.summary["halted"] and res.summary["counts"] == {"rolled_back": 1, "skipped": 1}
    assert res.summary["hosts"]["lnx-test-01"]["status"] == "rolled_back"
    assert any("lnx-test-01 failed or rolled back" in m for m in res.failures), res.failures
    for host in HOSTS:
        assert installed(host) == "1.0" and health(host) == "labapp-ehr 1.0 ok"

    # The same two as an HA pair, halting disabled: the second member waits for the first, which did not come
    # back healthy, so it stays up on 1.0.
    res = app("-e", "patch_ha_group=ehr-pair", "-e", "patch_max_fail_percentage=100", approvals=approvals)
    assert res.rc != 0, res.text
    assert res.results["lnx-test-01"]["status"] == "rolled_back"
    r2 = res.results["lnx-test-02"]
    assert r2["status"] == "skipped" and r2["reason"] == (
        "HA group ehr-pair: lnx-test-01 did not come back healthy; the other member stays up"), r2
    assert not res.summary["halted"]
    for host in HOSTS:
        assert installed(host) == "1.0" and health(host) == "labapp-ehr 1.0 ok"
