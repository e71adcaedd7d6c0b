"""hypervisor_patch on the lab: kvm-01 (a systemd container standing for the hypervisor's OS)
and the lab's libvirtd (test driver) holding its guests.

Lab facts the assertions rely on (lab/libvirt/guests.yml, inventories/lab/host_vars/kvm-01.yml):
ehr-app-01 running, clinical-critical, policy migrate -> managedsave; pacs-db-01 running, policy
migrate -> managedsave -> shutdown, snapshot; lis-web-01 paused, managedsave; build-01 shut off;
print-01 running, ignores graceful shutdown (<on_poweroff>restart</on_poweroff>), policy shutdown
with a 5 s timeout and force_stop_allowed. The test driver cannot live-migrate, so every migration
attempt fails and the fallback is what is exercised.
"""
import json
import os
import time

import libvirt
import pytest

from conftest import ROOT, ansible_adhoc, ansible_playbook, lab_env, run  # pylint: disable=import-error

pytestmark = pytest.mark.lab

URI = "test+unix:///default?socket=" + os.path.join(ROOT, ".lab", "run", "libvirt", "libvirt-sock")
HOST = "kvm-01"
GUESTS = ("ehr-app-01", "pacs-db-01", "lis-web-01", "build-01", "print-01")
LAB_PACKAGES = ("labpkg-kernel", "labpkg-util", "labpkg-web")
PLAYBOOK = """
- name: Patch the lab hypervisor
  hosts: kvm-01
  serial: 1
  gather_facts: false
  tasks:
    - name: Patch the hypervisor
      ansible.builtin.include_role:
        name: healthit.patching.hypervisor_patch
"""
# The lab's policy with print-01 marked clinical-critical: it ignores the shutdown request, and its
# policy even says force_stop_allowed, which must be ignored for a clinical-critical guest.
CRITICAL_PRINT_POLICY = {
    "ehr-app-01": {"steps": ["migrate", "managedsave"], "clinical_critical": True},
    "pacs-db-01": {"steps": ["migrate", "managedsave", "shutdown"], "shutdown_timeout": 30},
    "lis-web-01": {"steps": ["managedsave"]},
    "print-01": {"steps": ["shutdown"], "shutdown_timeout": 5, "force_stop_allowed": True, "clinical_critical": True},
}


def guest_states():
    """name -> (state, autostart, domain id, has managed save, snapshot count), read straight from libvirtd."""
    conn = libvirt.open(URI)
    try:
        names = {libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_PAUSED: "paused",
                 libvirt.VIR_DOMAIN_SHUTOFF: "shutoff"}
        out = {}
        for dom in conn.listAllDomains():
            out[dom.name()] = dict(state=names.get(dom.state()[0], str(dom.state()[0])), autostart=bool(dom.autostart()),
                                   id=dom.ID(), managed_save=bool(dom.hasManagedSaveImage()),
                                   snapshots=dom.snapshotNum())
        return out
    finally:
        conn.close()


def host_facts(env):
    """Package versions and PID 1 start time (the reboot marker in a container) on kvm-01."""
    res = ansible_adhoc(HOST, "ansible.builtin.shell",
                        "dpkg-query -W -f='${Package} ${Version}\\n' " + " ".join(LAB_PACKAGES) + "; stat -c 'boot %Y' /proc/1",
                        env=env)[HOST]
    assert not res.get("failed"), res
    lines = dict(line.split(" ", 1) for line in res["stdout"].splitlines())
    return {"boot": lines.pop("boot"), "packages": lines}


def play(tmp_path, env, *extra, check=True):
    book = tmp_path / "hypervisor.yml"
    book.write_text(PLAYBOOK, encoding="utf-8")
    env = dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    if not any(str(arg).startswith("hypervisor_patch_lock_dir=") for arg in extra):
        # the lab's shared lock is held by the cluster_to_ourselves fixture
        extra = extra + ("-e", "hypervisor_patch_lock_dir=" + str(tmp_path / "locks"))
    proc = ansible_playbook(str(book), *extra, env=env, check=check)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook printed no JSON (rc=%s)\n%s\n%s"
                             % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])) from None
    results = [task["hosts"][HOST] for p in data["plays"] for task in p["tasks"]
               if HOST in task["hosts"] and "patch_result" in task["hosts"][HOST]]
    assert results, "no patch_result printed:\n" + proc.stdout[-4000:]
    return proc, results[-1]["patch_result"]


def evidence_results(directory):
    """Every patch_result of platform kvm_hypervisor found in the audit evidence (JSON lines) of a run."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("patch_result"), dict) and node["patch_result"].get("platform") == "kvm_hypervisor":
                found.append(node["patch_result"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name in sorted(os.listdir(directory)):
        if name.endswith(".jsonl"):
            with open(os.path.join(directory, name), encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        walk(json.loads(line))
    return found


def actions(result, guest, action=None):
    return [a for a in result["actions"] if a["guest"] == guest and (action is None or a["action"] == action)]


SHARED_LOCK = os.path.join(ROOT, ".lab", "run", "hypervisor-locks", "cluster-kvm-cluster-a.lock")


@pytest.fixture
def cluster_to_ourselves():
    """Hold the lab's shared lock of kvm-01's cluster (the one every lab run of the role takes) for the
    whole test, so no other session's run drains kvm-01's guests under us; waits while one holds it.
    The test's own runs use a private lock directory."""
    os.makedirs(os.path.dirname(SHARED_LOCK), exist_ok=True)
    for dummy in range(900):
        try:
            fd = os.open(SHARED_LOCK, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            break
        except FileExistsError:
            time.sleep(1)
    else:
        pytest.fail("the lab's cluster lock %s stayed held for 15 minutes" % SHARED_LOCK)
    os.write(fd, ("host=pytest-%d\nsince=test\n" % os.getpid()).encode())
    os.close(fd)
    try:
        yield
    finally:
        os.unlink(SHARED_LOCK)


@pytest.fixture
def lab_env_tmp(lab, tmp_path, cluster_to_ourselves):
    """Fresh guests, a per-test state, evidence and lock directory."""
    python = os.path.join(ROOT, ".venv", "bin", "python")
    run([python, os.path.join(ROOT, "lab", "libvirt", "seed.py"), "--uri", URI])
    env = lab_env(HEALTHIT_PATCH_STATE_DIR=tmp_path / "state", HEALTHIT_AUDIT_DIR=tmp_path / "evidence")
    yield env
    run([python, os.path.join(ROOT, "lab", "libvirt", "seed.py"), "--uri", URI])


def test_hypervisor_patched_and_every_guest_back(lab_env_tmp, tmp_path):
    run(["bash", os.path.join(ROOT, "lab", "linux", "reset.sh"), HOST])
    env = lab_env_tmp
    before_host = host_facts(env)
    assert before_host["packages"]["labpkg-kernel"] == "1.0", before_host
    before = guest_states()
    assert {g: before[g]["state"] for g in GUESTS} == {
        "ehr-app-01": "running", "pacs-db-01": "running", "lis-web-01": "paused", "build-01": "shutoff",
        "print-01": "running"}

    dummy, result = play(tmp_path, env)

    # The host OS really moved and really rebooted.
    after_host = host_facts(env)
    # labpkg-kernel and labpkg-web have security updates (1.1); labpkg-util only a non-security one.
    assert after_host["packages"]["labpkg-kernel"] == "1.1", after_host
    assert after_host["packages"]["labpkg-web"] == "1.1", after_host
    assert after_host["boot"] != before_host["boot"]
    assert result["status"] == "patched" and result["rebooted"] is True
    assert result["platform"] == "kvm_hypervisor"
    assert result["before"]["labpkg-kernel"] == "1.0" and result["after"]["labpkg-kernel"] == "1.1"
    # The wave summary shows a sentence on success too: what the host OS got, the reboot, the guests.
    reason = result["reason"]
    assert reason.startswith("host OS: ") and "labpkg-kernel" in reason, reason
    assert "; rebooted; " in reason and reason.endswith("; %d guests back in their recorded state" % len(GUESTS)), reason

    # Every guest is back exactly as recorded: run state and autostart, no managed save or snapshot left.
    after = guest_states()
    for guest in GUESTS:
        assert (after[guest]["state"], after[guest]["autostart"]) == (before[guest]["state"], before[guest]["autostart"]), guest
        assert not after[guest]["managed_save"], guest
        assert after[guest]["snapshots"] == 0, guest
    # ...and they really went down and came back (a new domain id), except the guest that was off.
    for guest in ("ehr-app-01", "pacs-db-01", "lis-web-01", "print-01"):
        assert after[guest]["id"] != before[guest]["id"], guest
    assert actions(result, "build-01", "keep_off")[0]["result"] == "ok"
    assert [a["action"] for a in actions(result, "lis-web-01") if a["result"] == "ok"][-2:] == ["start", "pause"]

    # Migration was attempted, failed on the test driver, and the fallback was taken and reported.
    for guest in ("ehr-app-01", "pacs-db-01"):
        migrate = actions(result, guest, "migrate")
        assert migrate and migrate[0]["result"] == "failed", migrate
        assert "virDomainMigrate3" in migrate[0]["detail"] and migrate[0]["fallback"] == "managedsave"
        assert actions(result, guest, "managedsave")[0]["result"] == "ok"
        # the managed save drained it: the shutdown step was not tried
        assert not actions(result, guest, "shutdown")

    # The guest that will not shut down in time: timeout reported, then the forced stop its policy allows.
    shutdown = actions(result, "print-01", "shutdown")
    assert shutdown[0]["result"] == "timeout" and shutdown[0]["fallback"] == "destroy", shutdown
    assert actions(result, "print-01", "destroy")[0]["result"] == "ok"

    # The clinical-critical guest was never force-stopped.
    assert not actions(result, "ehr-app-01", "destroy")

    # Snapshot taken before, removed after validation.
    assert [a["action"] for a in actions(result, "pacs-db-01") if a["action"].startswith("snapshot")] == [
        "snapshot", "snapshot_delete"]

    # The record on the controller says the run completed.
    record = json.loads((tmp_path / "state" / "hypervisors" / (HOST + ".json")).read_text(encoding="utf-8"))
    assert record["complete"] is True
    assert record["guests"]["lis-web-01"]["state"] == "paused"
    assert not (tmp_path / "locks" / "cluster-kvm-cluster-a.lock").exists()

    # The audit evidence carries the same result with every guest action.
    in_evidence = evidence_results(str(tmp_path / "evidence"))
    assert in_evidence, "no kvm_hypervisor patch_result in the audit evidence"
    assert in_evidence[-1]["actions"] == result["actions"]


def test_clinical_critical_guest_never_force_stopped(lab_env_tmp, tmp_path):
    env = lab_env_tmp
    before_host = host_facts(env)
    before = guest_states()

    proc, result = play(tmp_path, env, "-e", json.dumps({"hypervisor_patch_guest_policy": CRITICAL_PRINT_POLICY}),
                        check=False)

    assert proc.returncode != 0, "a guest that cannot be drained must fail the host"
    assert result["status"] == "failed"
    assert "print-01" in result["reason"] and "could not be drained" in result["reason"]
    assert [a["result"] for a in actions(result, "print-01", "shutdown")] == ["timeout"]
    assert [a["result"] for a in actions(result, "print-01", "destroy")] == ["refused"]
    # libvirt agrees: print-01 was never stopped (same domain id, still running).
    after = guest_states()
    assert after["print-01"]["state"] == "running"
    assert after["print-01"]["id"] == before["print-01"]["id"]
    # The host was not patched, and the guests drained before the failure are back as recorded.
    assert host_facts(env)["packages"] == before_host["packages"]
    assert not actions(result, "", "host_os")
    for guest in GUESTS:
        assert (after[guest]["state"], after[guest]["autostart"]) == (before[guest]["state"], before[guest]["autostart"]), guest
        assert not after[guest]["managed_save"], guest
    assert result["not_back"] == []


def test_refused_when_cluster_lacks_room(lab_env_tmp, tmp_path):
    env = lab_env_tmp
    before_host = host_facts(env)
    before = guest_states()
    policy = dict(CRITICAL_PRINT_POLICY)
    policy["pacs-db-01"] = {"steps": ["migrate"], "require_migration": True}
    peers = [{"name": "kvm-02", "uri": URI, "cluster": "kvm-cluster-a", "free_memory_mib": 512, "free_vcpus": 8}]

    proc, result = play(tmp_path, env, "-e", json.dumps({"hypervisor_patch_guest_policy": policy,
                                                         "hypervisor_patch_migration_peers": peers}), check=False)

    assert proc.returncode != 0
    assert result["status"] == "skipped"
    assert "lacks room" in result["reason"] and "pacs-db-01" in result["reason"]
    # Nothing was touched: same domain ids and states, same host packages.
    assert guest_states() == before
    assert host_facts(env)["packages"] == before_host["packages"]
    assert {a["action"] for a in result["actions"]} <= {"record", "plan"}


def test_refused_while_another_host_of_the_cluster_is_patched(lab_env_tmp, tmp_path):
    env = lab_env_tmp
    lock = tmp_path / "locks" / "cluster-kvm-cluster-a.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("host=kvm-02\nsince=20261122T000000Z\n", encoding="utf-8")
    before = guest_states()

    proc, result = play(tmp_path, env, "-e", "hypervisor_patch_lock_dir=" + str(lock.parent), check=False)

    assert proc.returncode != 0
    assert result["status"] == "skipped"
    assert "locked by another run" in result["reason"] and "kvm-02" in result["reason"]
    assert result["actions"] == []
    assert guest_states() == before
    assert lock.read_text(encoding="utf-8").startswith("host=kvm-02"), "someone else's lock must be left alone"
