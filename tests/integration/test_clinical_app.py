"""clinical_app_patch on the lab's Debian hosts: vendor-approved updates installed and verified, anything else refused.

The application is labapp-ehr, a dummy vendor package built by lab/clinical_app/build.sh in versions 1.0 and
1.1 (a service answering /health on 127.0.0.1:8090 and an outbound interface queue). Every test starts from
freshly reset lnx-test-01/lnx-test-02, writes its own approval register, runs the role through the lab
inventory, and then reads the hosts themselves (dpkg, the running service's answer, the package store).
"""
import datetime
import hashlib
import os

import pytest
import yaml

from clinical_lab import HOSTS, TODAY, build_packages, health, installed, on_host, record, reset_hosts
from conftest import ROOT, ansible_playbook, json_env, reported_results

INVENTORY = os.path.join(ROOT, "inventories", "lab", "lab.patch_inventory.yml")
STORE = "/var/lib/healthit-patching/clinical-packages"

PLAYBOOK = """
- name: Clinical application update
  hosts: "{{ app_hosts }}"
  gather_facts: false
  serial: 1
  tasks:
    - name: Update
      ansible.builtin.include_role:
        name: healthit.patching.clinical_app_patch
      vars:
        clinical_app_patch_name: labapp-ehr
        clinical_app_patch_package: "{{ app_dir }}/labapp-ehr_{{ clinical_app_patch_version }}_all.deb"
        clinical_app_patch_service: labapp-ehr
        clinical_app_patch_health_url: http://127.0.0.1:8090/health
        clinical_app_patch_health_body_regex: "labapp-ehr {{ clinical_app_patch_version }} ok"
        clinical_app_patch_health_retries: 5
        clinical_app_patch_health_delay: 1
        clinical_app_patch_queue_dirs: [/var/spool/labapp-ehr/outbound]
        clinical_app_patch_queue_retries: 3
        clinical_app_patch_queue_delay: 1
        clinical_app_patch_downtime_budget_minutes: 30
"""


@pytest.fixture(scope="module")
def packages(lab):
    yield build_packages()
    reset_hosts()  # others use these hosts too: leave them as the lab made them


@pytest.fixture()
def app(packages, tmp_path):
    """Fresh test hosts and a runner: app(hosts, version, approvals) -> (rc, {host: patch_result})."""
    out, sums = packages
    reset_hosts()
    book = tmp_path / "clinical.yml"
    book.write_text(PLAYBOOK)
    evidence = tmp_path / "evidence"
    evidence.mkdir()

    def play(hosts, version, approvals=None, register_text=None):
        register = tmp_path / "approvals.yml"
        register.write_text(register_text if register_text is not None
                            else yaml.safe_dump({"approvals": approvals}, sort_keys=False))
        env = json_env(HEALTHIT_AUDIT_DIR=str(evidence), HEALTHIT_PATCH_STATE_DIR=str(tmp_path / "state"))
        proc = ansible_playbook(str(book), "-i", INVENTORY, "-e", "app_hosts=" + hosts, "-e", "app_dir=" + out,
                                "-e", "clinical_app_patch_register=" + str(register),
                                "-e", "clinical_app_patch_version=" + version, env=env, check=False)
        results = reported_results(proc.stdout)
        assert results, proc.stdout[-5000:] + proc.stderr[-3000:]
        return proc.returncode, results

    play.sums = sums
    play.evidence = evidence

    def install_10(hosts="lnx-test-01"):
        rc, res = play(hosts, "1.0", [record("APR-10", "1.0", sums["1.0"], groups=["wave_test"])])
        assert rc == 0 and all(r["status"] == "patched" for r in res.values()), {
            h: (r["status"], r["reason"]) for h, r in res.items()}
    play.install_10 = install_10
    return play


@pytest.mark.lab
def test_approved_update_is_installed_and_verified_only_where_approved(app):
    # first installation, approved for the test wave group: no pre checks (nothing ran), post checks pass
    app.install_10("lnx-test-01:lnx-test-02")
    for host in HOSTS:
        assert installed(host) == "1.0" and health(host) == "labapp-ehr 1.0 ok"

    approvals = [record("APR-10", "1.0", app.sums["1.0"], groups=["wave_test"]),
                 record("APR-11", "1.1", app.sums["1.1"], hosts=["lnx-test-01"], change_request="CHG-7")]
    rc, res = app("lnx-test-01:lnx-test-02", "1.1", approvals)
    assert rc == 0, res
    r1, r2 = res["lnx-test-01"], res["lnx-test-02"]
    assert r1["status"] == "patched", r1
    assert r1["platform"] == "linux" and r1["baseline_key"] == "app:labapp-ehr"
    assert r1["before"] == {"labapp-ehr": "1.0"} and r1["after"] == {"labapp-ehr": "1.1"}
    assert r1["approval"]["id"] == "APR-11" and r1["approval"]["vendor_reference"] == "LMS-SB-APR-11"
    assert "approved by APR-11" in r1["reason"]
    assert r1["actions"][0].startswith("approval APR-11") and "post checks passed" in r1["actions"]
    assert installed("lnx-test-01") == "1.1" and health("lnx-test-01") == "labapp-ehr 1.1 ok"
    # the previous and the new package stay verified on the host for a later rollback
    listing = on_host("lnx-test-01", "ls", STORE).stdout.split()
    assert {"labapp-ehr_1.0.deb", "labapp-ehr_1.0.deb.sha256", "labapp-ehr_1.1.deb"} <= set(listing)
    assert on_host("lnx-test-01", "cat", STORE + "/labapp-ehr_1.1.deb.sha256").stdout.strip() == app.sums["1.1"]

    assert r2["status"] == "skipped", r2  # its group's approval is for 1.0 only
    assert r2["reason"] == "not installed: labapp-ehr 1.1 is not approved for lnx-test-02: approved version 1.0 (APR-10)"
    assert installed("lnx-test-02") == "1.0"

    # a second run is current, without an approval lookup changing anything
    rc, res = app("lnx-test-01", "1.1", approvals)
    assert rc == 0 and res["lnx-test-01"]["status"] == "current", res


REFUSALS = [
    ("no record for the product", lambda s: [record("APR-X", "1.1", s["1.1"], product="labapp-lis", hosts=["lnx-test-01"])],
     "no approval record for labapp-ehr"),
    ("expired approval", lambda s: [record("APR-E", "1.1", s["1.1"], hosts=["lnx-test-01"],
                                           approved_on=(TODAY - datetime.timedelta(days=90)).isoformat(),
                                           expires=(TODAY - datetime.timedelta(days=1)).isoformat())],
     "approval APR-E for labapp-ehr 1.1 expired on %s" % (TODAY - datetime.timedelta(days=1))),
    ("wrong version", lambda s: [record("APR-W", "1.0", s["1.0"], hosts=["lnx-test-01"])],
     "labapp-ehr 1.1 is not approved for lnx-test-01: approved version 1.0 (APR-W)"),
    ("more downtime than the run allows", lambda s: [record("APR-D", "1.1", s["1.1"], hosts=["lnx-test-01"],
                                                            downtime_minutes=45)],
     "approval APR-D requires 45 minutes of downtime; this run allows 30"),
]


@pytest.mark.lab
def test_unapproved_updates_are_refused_with_the_reason(app):
    app.install_10()
    for name, approvals, reason in REFUSALS:
        rc, res = app("lnx-test-01", "1.1", approvals(app.sums))
        r = res["lnx-test-01"]
        assert rc == 0, name  # a refusal is a skip, not a failed host
        assert r["status"] == "skipped", (name, r)
        assert reason in r["reason"], (name, r["reason"])
        assert r["after"] == {"labapp-ehr": "1.0"} and r["approval"] is None
        assert installed("lnx-test-01") == "1.0", name
        assert "labapp-ehr_1.1.deb" not in on_host("lnx-test-01", "ls", STORE).stdout.split(), name
    assert health("lnx-test-01") == "labapp-ehr 1.0 ok"


@pytest.mark.lab
def test_invalid_register_fails_closed_naming_file_line_and_field(app):
    app.install_10()
    text = yaml.safe_dump({"approvals": [record("APR-11", "1.1", app.sums["1.1"], hosts=["lnx-test-01"])]},
                          sort_keys=False).replace("downtime_minutes: 10", "downtime_minutes: ten")
    rc, res = app("lnx-test-01", "1.1", register_text=text)
    r = res["lnx-test-01"]
    assert rc != 0 and r["status"] == "failed", r
    assert "approval register invalid" in r["reason"] and "field 'downtime_minutes'" in r["reason"]
    assert "approvals.yml, line 11" in r["reason"], r["reason"]
    assert installed("lnx-test-01") == "1.0"


@pytest.mark.lab
def test_checksum_mismatch_is_refused_and_nothing_installed(app):
    app.install_10()
    wrong = hashlib.sha256(b"not the vendor's package").hexdigest()
    rc, res = app("lnx-test-01", "1.1", [record("APR-11", "1.1", wrong, hosts=["lnx-test-01"])])
    r = res["lnx-test-01"]
    assert rc != 0 and r["status"] == "failed", r
    assert "checksum mismatch" in r["reason"] and app.sums["1.1"] in r["reason"] and wrong in r["reason"]
    assert installed("lnx-test-01") == "1.0" and health("lnx-test-01") == "labapp-ehr 1.0 ok"
    assert "labapp-ehr_1.1.deb" not in on_host("lnx-test-01", "ls", STORE).stdout.split()


@pytest.mark.lab
def test_queue_not_drained_is_refused_before_anything_changes(app):
    app.install_10()
    on_host("lnx-test-01", "touch", "/etc/labapp-ehr/hold-queue")
    on_host("lnx-test-01", "sh", "-c", "echo ADT-A08 > /var/spool/labapp-ehr/outbound/msg-0001.hl7")
    rc, res = app("lnx-test-01", "1.1", [record("APR-11", "1.1", app.sums["1.1"], hosts=["lnx-test-01"])])
    r = res["lnx-test-01"]
    assert rc != 0 and r["status"] == "failed", r
    assert "the interface queue is not drained (1 item(s) in /var/spool/labapp-ehr/outbound)" in r["reason"]
    assert installed("lnx-test-01") == "1.0"
    # once the interface sends its queue, the same run goes ahead
    on_host("lnx-test-01", "rm", "/etc/labapp-ehr/hold-queue")
    rc, res = app("lnx-test-01", "1.1", [record("APR-11", "1.1", app.sums["1.1"], hosts=["lnx-test-01"])])
    assert rc == 0 and res["lnx-test-01"]["status"] == "patched", res
    assert on_host("lnx-test-01", "ls", "/var/lib/labapp-ehr/sent").stdout.split() == ["msg-0001.hl7"]


@pytest.mark.lab
def test_failed_post_check_rolls_back_to_the_previous_package(app):
    app.install_10()
    on_host("lnx-test-01", "sh", "-c", "echo 1.1 > /etc/labapp-ehr/break-version")
    rc, res = app("lnx-test-01", "1.1", [record("APR-11", "1.1", app.sums["1.1"], hosts=["lnx-test-01"])])
    r = res["lnx-test-01"]
    assert rc != 0, r  # a rolled-back host ends failed, so serial/max_fail_percentage stop the wave
    assert r["status"] == "rolled_back", r
    assert "post check failed: http://127.0.0.1:8090/health answered 503" in r["reason"]
    assert "rolled back to labapp-ehr 1.0" in r["reason"]
    assert r["before"] == {"labapp-ehr": "1.0"} and r["after"] == {"labapp-ehr": "1.0"}
    assert r["actions"][-1] == "rolled back to 1.0"
    assert any(a.startswith("installed labapp-ehr 1.1 over 1.0") for a in r["actions"])
    assert installed("lnx-test-01") == "1.0" and health("lnx-test-01") == "labapp-ehr 1.0 ok"
    # the evidence holds the result with its reason
    text = "".join(p.read_text() for p in app.evidence.glob("*.jsonl"))
    assert "rolled_back" in text and "APR-11" in text
