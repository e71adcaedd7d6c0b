"""The monthly wave on the lab: real apt upgrades from the signed lab repository, real reboots.

One module-scoped scenario runs the test wave and then the production wave (with a newer version
published in between) and the tests read what happened on the hosts, in the baseline and in the
audit evidence. Refusals, rollback, halting and HA safety each get a run of their own.
"""
import glob
import json
import os

import pytest

from conftest import ROOT, ansible_adhoc, ansible_playbook, boot_time, lab_env, package_versions as versions, run

pytestmark = pytest.mark.lab

PLAYBOOK = os.path.join(ROOT, "playbooks", "monthly_wave.yml")
LINUX_HOSTS = ["lnx-test-01", "lnx-test-02", "lnx-prod-01", "lnx-prod-02", "lnx-prod-03", "lnx-expired-01"]


def reset_hosts(*hosts):
    run(["bash", os.path.join(ROOT, "lab", "linux", "reset.sh"), *hosts], timeout=900)


def reset_repo():
    run(["bash", os.path.join(ROOT, "lab", "repo", "reset.sh")], timeout=600)


def evidence_records(evidence_dir):
    records = []
    for path in sorted(glob.glob(os.path.join(evidence_dir, "*.jsonl"))):
        with open(path) as f:
            records.extend(json.loads(line) for line in f if line.strip())
    return records


def summary_from_evidence(records, proc=None):
    for rec in reversed(records):
        res = rec.get("result") or {}
        if "patch_summary" in res:
            return res["patch_summary"]
    raise AssertionError("no patch_summary in the evidence (%d records)\n%s" % (
        len(records), (proc.stdout[-6000:] + proc.stderr[-3000:]) if proc is not None else ""))


def wave(tmp, wave_name, *extra, check=True, ticket="CHG0042"):
    env = lab_env(HEALTHIT_PATCH_STATE_DIR=os.path.join(tmp, "state"), HEALTHIT_AUDIT_DIR=os.path.join(tmp, "evidence"))
    args = ["-e", "patch_wave=%s" % wave_name, "-e", "patch_change_ticket=%s" % ticket, "-e", "patch_hosts=lnx-*",
            "-e", "patch_batch_size=10", *extra]
    return ansible_playbook(PLAYBOOK, *args, env=env, check=check)


def write_baseline(tmp, content, status="passed"):
    from ansible_collections.healthit.patching.plugins.module_utils import _baseline
    results = {"lnx-test-01": {"status": "patched" if status == "passed" else "failed",
                               "baseline_key": "linux:debian:bookworm", "after": content}}
    b = _baseline.build(results, 0.9, "2026-01-01T00:00:00Z")
    d = os.path.join(tmp, "state", "baselines")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "latest.json"), "w") as f:
        json.dump(b, f)
    return b


@pytest.fixture(scope="module")
def scenario(lab, tmp_path_factory):
    """Test wave, then 1.2 of labpkg-web published, then the production wave."""
    tmp = str(tmp_path_factory.mktemp("wave"))
    reset_repo()
    reset_hosts(*LINUX_HOSTS)
    data = {"before": {h: versions(h) for h in LINUX_HOSTS}, "boot_before": {h: boot_time(h) for h in LINUX_HOSTS}}
    data["test_run"] = wave(tmp, "test")
    data["after_test"] = {h: versions(h) for h in LINUX_HOSTS}
    data["boot_after_test"] = {h: boot_time(h) for h in LINUX_HOSTS}
    with open(os.path.join(tmp, "state", "baselines", "latest.json")) as f:
        data["baseline"] = json.load(f)
    run(["bash", os.path.join(ROOT, "lab", "repo", "publish-extra.sh"), "labpkg-web", "1.2", "bookworm-security"])
    try:
        data["prod_run"] = wave(tmp, "production")
    finally:
        reset_repo()
    data["after_prod"] = {h: versions(h) for h in LINUX_HOSTS}
    data["evidence"] = evidence_records(os.path.join(tmp, "evidence"))
    data["tmp"] = tmp
    return data


def test_lab_hosts_start_out_of_date(scenario):
    for host in LINUX_HOSTS:
        assert scenario["before"][host] == {"labpkg-web": "1.0", "labpkg-kernel": "1.0", "labpkg-util": "1.0"}


def test_test_wave_patches_test_hosts_security_only_and_reboots(scenario):
    for host in ("lnx-test-01", "lnx-test-02"):
        assert scenario["after_test"][host] == {"labpkg-web": "1.1", "labpkg-kernel": "1.1", "labpkg-util": "1.0"}
        assert scenario["boot_after_test"][host] != scenario["boot_before"][host], host + " was not rebooted"


def test_test_wave_leaves_production_untouched(scenario):
    for host in ("lnx-prod-01", "lnx-prod-02", "lnx-prod-03", "lnx-expired-01"):
        assert scenario["after_test"][host] == scenario["before"][host]
        assert scenario["boot_after_test"][host] == scenario["boot_before"][host]


def test_test_wave_records_a_passed_baseline(scenario):
    b = scenario["baseline"]
    assert b["status"] == "passed"
    assert b["content"] == {"linux:debian:bookworm": {"labpkg-web": "1.1", "labpkg-kernel": "1.1"}}
    assert b["change_ticket"] == "CHG0042"
    assert set(b["hosts"]) == {"lnx-test-01", "lnx-test-02"}


def test_production_gets_exactly_the_baseline_despite_a_newer_version(scenario):
    for host in ("lnx-prod-01", "lnx-prod-02", "lnx-expired-01"):
        assert scenario["after_prod"][host] == {"labpkg-web": "1.1", "labpkg-kernel": "1.1", "labpkg-util": "1.0"}, host


def test_host_outside_its_window_is_untouched_and_says_why(scenario):
    assert scenario["after_prod"]["lnx-prod-03"] == scenario["before"]["lnx-prod-03"]
    summary = summary_from_evidence(scenario["evidence"])
    assert summary["wave"] == "production"
    assert summary["hosts"]["lnx-prod-03"]["status"] == "skipped"
    assert 'outside maintenance window "lab-closed"' in summary["hosts"]["lnx-prod-03"]["reason"]
    # the console summary (JSON-escaped quotes in the debug output)
    assert 'outside maintenance window \\"lab-closed\\"' in scenario["prod_run"].stdout


def test_exception_hosts_are_not_patched_and_are_reported(scenario):
    assert "lnx-exc-01" not in scenario["after_prod"]
    assert versions("lnx-exc-01")["labpkg-web"] == "1.0"
    summary = summary_from_evidence(scenario["evidence"])
    excluded = {x["host"]: x for x in summary["excluded_by_exception"]}
    assert excluded["lnx-exc-01"]["exception"] == "EXC-2026-014"
    assert "lnx-expired-01" in summary["hosts"] and summary["hosts"]["lnx-expired-01"]["status"] == "patched"


def test_ha_members_are_patched_one_after_the_other(scenario):
    """lnx-prod-02 starts only after lnx-prod-01 finished, validated (evidence order)."""
    recs = [r for r in scenario["evidence"] if r.get("type") == "host_result" and r.get("host") in ("lnx-prod-01", "lnx-prod-02")]
    prod_run = [r for r in recs if r["run_id"] == recs[-1]["run_id"]]
    last_01 = max(r["seq"] for r in prod_run if r["host"] == "lnx-prod-01")
    first_02 = min(r["seq"] for r in prod_run if r["host"] == "lnx-prod-02")
    assert last_01 < first_02
    validated = [r for r in prod_run if r["host"] == "lnx-prod-01" and r["task"].endswith("Validate the host")]
    assert validated and validated[0]["seq"] < first_02


def test_evidence_of_both_waves_verifies(scenario):
    result = ansible_adhoc("localhost", "healthit.patching.audit_verify",
                           "path=%s" % os.path.join(scenario["tmp"], "evidence"))["localhost"]
    assert result["verified"] is True
    assert result["summary"] == {"verified": 2, "incomplete": 0, "tampered": 0}
    assert all(f["closed"] for f in result["files"])


def test_production_without_a_baseline_is_refused(lab, tmp_path):
    before = versions("lnx-prod-01")
    proc = wave(str(tmp_path), "production", check=False)
    assert proc.returncode != 0
    assert "No baseline" in proc.stdout
    assert versions("lnx-prod-01") == before


def test_production_with_a_failed_baseline_is_refused(lab, tmp_path):
    write_baseline(str(tmp_path), {"labpkg-web": "1.1"}, status="failed")
    proc = wave(str(tmp_path), "production", check=False)
    assert proc.returncode != 0
    assert "refused for production" in proc.stdout and "did not pass" in proc.stdout


def test_production_with_a_tampered_baseline_is_refused(lab, tmp_path):
    b = write_baseline(str(tmp_path), {"labpkg-web": "1.1"})
    b["content"]["linux:debian:bookworm"]["labpkg-web"] = "1.2"
    with open(os.path.join(str(tmp_path), "state", "baselines", "latest.json"), "w") as f:
        json.dump(b, f)
    proc = wave(str(tmp_path), "production", check=False)
    assert proc.returncode != 0
    assert "changed after the test wave recorded it" in proc.stdout


def test_production_needs_a_change_ticket(lab, tmp_path):
    write_baseline(str(tmp_path), {"labpkg-web": "1.1"})
    proc = wave(str(tmp_path), "production", check=False, ticket="none")
    assert proc.returncode != 0
    assert "production needs" in proc.stdout


def test_blackout_refuses_hosts_of_its_site(lab, tmp_path):
    reset_hosts("lnx-test-01")
    blackout = json.dumps({"patch_blackouts": [{"name": "EHR go-live", "start": "2000-01-01 00:00", "end": "2099-01-01 00:00",
                                                "sites": ["main-campus"]}]})
    proc = wave(str(tmp_path), "test", "-e", blackout, "-e", "patch_hosts=lnx-test-01", check=False)
    assert versions("lnx-test-01")["labpkg-web"] == "1.0"
    summary = summary_from_evidence(evidence_records(os.path.join(str(tmp_path), "evidence")))
    assert summary["hosts"]["lnx-test-01"]["status"] == "skipped"
    assert 'inside clinical blackout "EHR go-live"' in summary["hosts"]["lnx-test-01"]["reason"]
    assert proc.returncode == 0


def test_failed_health_check_rolls_back_and_halts_the_wave(lab, tmp_path):
    """lnx-test-01's web app is made unhealthy on 1.1: it is rolled back to 1.0; one failure of two
    exceeds the 10% threshold, so the wave halts before lnx-test-02 and says so."""
    reset_repo()
    reset_hosts("lnx-test-01", "lnx-test-02")
    run(["podman", "exec", "lnx-test-01", "sh", "-c", "mkdir -p /etc/labweb && echo 1.1 > /etc/labweb/break-version"])
    proc = wave(str(tmp_path), "test", "-e", "patch_batch_size=1", "-e", "patch_max_fail_percentage=10", check=False)
    assert proc.returncode != 0, "a rolled-back host must make the run fail"
    assert versions("lnx-test-01") == {"labpkg-web": "1.0", "labpkg-kernel": "1.0", "labpkg-util": "1.0"}
    assert versions("lnx-test-02")["labpkg-web"] == "1.0"
    health = run(["podman", "exec", "lnx-test-01", "python3", "-c",
                  "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8080/health').status)"])
    assert health.stdout.strip() == "200"
    summary = summary_from_evidence(evidence_records(os.path.join(str(tmp_path), "evidence")), proc)
    assert summary["hosts"]["lnx-test-01"]["status"] == "rolled_back", summary["hosts"]
    assert "health URL http://127.0.0.1:8080/health" in summary["hosts"]["lnx-test-01"]["reason"]
    assert summary["halted"] is True
    assert summary["hosts"]["lnx-test-02"]["status"] == "skipped"
    assert "wave halted" in summary["hosts"]["lnx-test-02"]["reason"]
    with open(os.path.join(str(tmp_path), "state", "baselines", "latest.json")) as f:
        assert json.load(f)["status"] == "failed"


def test_ha_peer_is_left_up_when_the_first_member_fails(lab, tmp_path):
    reset_repo()
    reset_hosts("lnx-prod-01", "lnx-prod-02")
    write_baseline(str(tmp_path), {"labpkg-web": "1.1", "labpkg-kernel": "1.1"})
    run(["podman", "exec", "lnx-prod-01", "sh", "-c", "mkdir -p /etc/labweb && echo 1.1 > /etc/labweb/break-version"])
    proc = wave(str(tmp_path), "production", "-e", "patch_hosts=lnx-prod-01:lnx-prod-02", "-e", "patch_max_fail_percentage=100",
                check=False)
    assert proc.returncode != 0
    assert versions("lnx-prod-01")["labpkg-web"] == "1.0"
    assert versions("lnx-prod-02")["labpkg-web"] == "1.0", "the second HA member must not be patched"
    summary = summary_from_evidence(evidence_records(os.path.join(str(tmp_path), "evidence")), proc)
    assert summary["hosts"]["lnx-prod-01"]["status"] == "rolled_back", summary["hosts"]
    assert summary["hosts"]["lnx-prod-02"]["status"] == "skipped"
    assert "HA group web-ha: lnx-prod-01 did not come back healthy" in summary["hosts"]["lnx-prod-02"]["reason"]
