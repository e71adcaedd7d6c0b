"""The monthly wave run through ansible-runner the way AWX runs a job template, against the lab.

AWX writes a private data directory (env/extravars with its awx_* job metadata and the survey answers,
env/envvars with the credential and instance-group environment, the inventory, the project) and starts
`ansible-runner run` on it; the job's events and status come back as runner artifacts. This test does the same
with the lab inventory (the healthit.patching.patch_inventory plugin) and the test wave on lnx-test-01, then reads
the artifacts and the audit evidence: the run_start record must name the AWX job, template, user and schedule.
lnx-test-01 really gets patched and rebooted, so it is reset before and after.
"""
import glob
import json
import os

import pytest

from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer as ew
from conftest import ROOT, lab_env, run

pytestmark = pytest.mark.lab

HOST = "lnx-test-01"
IDENT = "awx-job-4242"
EXTRAVARS = {
    # What AWX adds to every job (awx_meta_vars) for a scheduled run of a job template inside a workflow ...
    "awx_job_id": 4242,
    "awx_job_launch_type": "workflow",
    "awx_job_template_id": 17,
    "awx_job_template_name": "healthit patching - test wave",
    "awx_user_name": "cab-approver",
    "awx_schedule_name": "healthit monthly cycle - Patch Tuesday + 2 (Thursday)",
    "awx_workflow_job_id": 4240,
    "awx_workflow_job_name": "healthit patching - monthly cycle",
    "awx_inventory_name": "healthit patch estate",
    "awx_project_revision": "0123456789abcdef0123456789abcdef01234567",
    # ... the job template's extra vars and the survey answers.
    "patch_wave": "test",
    "patch_change_ticket": "CHG0042",
    "patch_hosts": HOST,
    "patch_batch_size": 1,
    "patch_max_fail_percentage": 0,
}


def _reset():
    run(["bash", os.path.join(ROOT, "lab", "linux", "reset.sh"), HOST], timeout=900)


@pytest.fixture(scope="module")
def job(lab, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("awx")
    pdd = tmp / "pdd"
    (pdd / "env").mkdir(parents=True)
    evidence, state = tmp / "evidence", tmp / "state"
    env = lab_env()
    # AWX: instance-group environment and credential injectors land in env/envvars; JOB_ID is set for every job.
    envvars = {k: env[k] for k in ("PATH", "ANSIBLE_CONFIG", "CONTAINERS_CONF", "HEALTHIT_LAB_ROOT")}
    # The "evidence HMAC key" credential type: AWX writes the key into a file of the private data dir and names it
    # in HEALTHIT_AUDIT_HMAC_KEY_FILE (injectors in playbooks/vars/awx.yml).
    key_file = pdd / "env" / "tmp_hmac_key"
    key_file.write_text("lab-only-evidence-key-0123456789abcdef")
    key_file.chmod(0o600)
    envvars.update(HEALTHIT_AUDIT_DIR=str(evidence), HEALTHIT_PATCH_STATE_DIR=str(state), JOB_ID="4242",
                   ANSIBLE_NOCOLOR="1", HEALTHIT_AUDIT_HMAC_KEY_FILE=str(key_file))
    (pdd / "env" / "envvars").write_text(json.dumps(envvars))
    (pdd / "env" / "extravars").write_text(json.dumps(EXTRAVARS))
    (pdd / "env" / "settings").write_text(json.dumps({"suppress_ansible_output": False}))
    # AWX copies the project checkout into the private data dir; the playbook path is relative to it.
    os.symlink(ROOT, str(pdd / "project"))
    _reset()
    try:
        proc = run([os.path.join(ROOT, ".venv", "bin", "ansible-runner"), "run", str(pdd),
                    "-p", "playbooks/monthly_wave.yml",
                    "--inventory", os.path.join(ROOT, "inventories", "lab", "lab.patch_inventory.yml"),
                    "--ident", IDENT],
                   env=env, check=False, timeout=1800)
        artifacts = pdd / "artifacts" / IDENT
        event_files = sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
        events = [json.loads(p.read_text()) for p in event_files]
        records = []
        for path in sorted(glob.glob(str(evidence / "*.jsonl"))):
            with open(path) as handle:
                records.append([json.loads(line) for line in handle if line.strip()])
        versions = run(["podman", "exec", HOST, "dpkg-query", "-W", "-f", "${Package}=${Version}\\n",
                        "labpkg-web", "labpkg-kernel"], check=True).stdout.split()
        yield {"proc": proc, "artifacts": artifacts, "events": events, "evidence": records, "versions": versions,
               "state": state, "evidence_dir": evidence,
               "key_file": key_file}
    finally:
        _reset()


def test_runner_reports_success(job):
    artifacts = job["artifacts"]
    detail = job["proc"].stdout[-6000:] + job["proc"].stderr[-3000:]
    assert (artifacts / "status").read_text().strip() == "successful", detail
    assert (artifacts / "rc").read_text().strip() == "0", detail
    assert job["proc"].returncode == 0, detail


def test_runner_job_events_show_the_wave_on_the_host(job):
    kinds = [e["event"] for e in job["events"]]
    assert kinds[0] == "playbook_on_start" and "playbook_on_stats" in kinds
    stats = [e for e in job["events"] if e["event"] == "playbook_on_stats"][-1]["event_data"]
    assert HOST in stats["ok"] and not stats["failures"] and not stats["dark"]
    host_events = {e["event_data"].get("host") for e in job["events"] if e["event"] == "runner_on_ok"}
    assert HOST in host_events
    # Only the asked-for host of the test wave was touched.
    assert not host_events - {HOST, "localhost"}


def test_host_was_patched_to_the_recorded_baseline(job):
    with open(str(job["state"] / "baselines" / "latest.json")) as handle:
        content = json.load(handle)["content"]["linux:debian:bookworm"]
    installed = dict(v.split("=", 1) for v in job["versions"])
    assert installed["labpkg-web"] != "1.0" and installed["labpkg-kernel"] != "1.0"
    assert {k: installed[k] for k in content} == content


def test_evidence_run_start_carries_the_awx_job_metadata(job):
    (records,) = job["evidence"]
    start = records[0]
    assert start["type"] == "run_start"
    assert start["operator"]["source"] == "awx"
    assert start["operator"]["user"] == "cab-approver"
    assert start["awx"]["job_id"] == 4242
    assert start["awx"]["env_job_id"] == "4242"
    assert start["awx"]["job_template_name"] == "healthit patching - test wave"
    assert start["awx"]["schedule_name"] == "healthit monthly cycle - Patch Tuesday + 2 (Thursday)"
    assert start["awx"]["workflow_job_id"] == 4240
    assert start["awx"]["launch_type"] == "workflow"
    assert start["change_ticket"] == "CHG0042"
    assert start["extra_vars"]["awx_project_revision"] == EXTRAVARS["awx_project_revision"]
    assert start["extra_vars"]["awx_workflow_job_name"] == "healthit patching - monthly cycle"
    assert start["playbook"]["path"].endswith(os.path.join("playbooks", "monthly_wave.yml"))
    assert records[-1]["type"] == "run_end"


def test_evidence_keeps_only_allow_listed_extra_vars(job):
    (records,) = job["evidence"]
    # patch_hosts (the host restriction) is allow-listed: the auditor sees which hosts the job was aimed at.
    assert records[0]["extra_vars"]["patch_hosts"] == EXTRAVARS["patch_hosts"]
    assert "patch_batch_size" not in records[0]["extra_vars"]
    assert set(records[0]["extra_vars"]) <= set(ew.DEFAULT_EXTRA_VAR_FIELDS)


def test_evidence_is_signed_with_the_credential_key_and_verifies(job):
    (records,) = job["evidence"]
    assert records[0]["evidence"]["hmac"] is True and all(r.get("hmac") for r in records)
    proc = run([os.path.join(ROOT, ".venv", "bin", "ansible"), "localhost", "-m", "healthit.patching.audit_verify",
                "-a", "path=%s hmac_key_file=%s require_hmac=true fail_on_incomplete=true"
                % (job["evidence_dir"], job["key_file"])],
               env=lab_env(HEALTHIT_AUDIT_DIR=str(job["evidence_dir"].parent / "verify-evidence")), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"verified": true' in proc.stdout and '"tampered": 0' in proc.stdout


def test_test_wave_recorded_a_baseline_on_the_persistent_state_dir(job):
    with open(str(job["state"] / "baselines" / "latest.json")) as handle:
        baseline = json.load(handle)
    assert set(baseline["hosts"]) == {HOST} and baseline["change_ticket"] == "CHG0042"
    assert baseline["status"] == "passed"
