"""CONTRACT TESTS for roles/macos_patch: a scripted fake `softwareupdate` on PATH, local connection.

These tests check the role's orchestration (what it lists, selects, installs, when it asks for a restart,
how it verifies and reports) against the documented command line and output format of softwareupdate.
They are not coverage of macOS: no Mac, no SSH, no real restart (the role's wait_for_connection after
--restart returns at once on a local connection).
"""
import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
FAKE_BIN = os.path.join(HERE, "fake_bin")


def ansible_playbook(book, *args, env):
    return subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), book, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


PLAYBOOK = """
- name: macOS updates
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Update
      ansible.builtin.include_role:
        name: healthit.patching.macos_patch
"""

SAFARI = {"label": "Safari17.1VenturaAuto-17.1", "title": "Safari", "version": "17.1", "recommended": True}
MACOS = {"label": "macOS Ventura 13.6.1-22G313", "title": "macOS Ventura 13.6.1", "version": "13.6.1",
         "recommended": True, "action": "restart"}
TOOLS = {"label": "Command Line Tools for Xcode-15.0", "title": "Command Line Tools for Xcode", "version": "15.0",
         "recommended": False}


@pytest.fixture()
def mac(tmp_path):
    book = tmp_path / "macos.yml"
    book.write_text(PLAYBOOK)
    state_file = tmp_path / "softwareupdate.json"

    def play(available, *extra, fail_labels=(), check=False):
        state_file.write_text(json.dumps({"available": available, "fail_labels": list(fail_labels)}))
        env = dict(os.environ, PATH=os.pathsep.join([FAKE_BIN, VENV_BIN, os.environ.get("PATH", "")]),
                   ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), FAKE_SOFTWAREUPDATE_STATE=str(state_file),
                   HEALTHIT_AUDIT_DIR=str(tmp_path / "evidence"), HEALTHIT_PATCH_STATE_DIR=str(tmp_path / "state"),
                   ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                   ANSIBLE_NOCOLOR="1")
        args = ["-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + os.path.join(VENV_BIN, "python"),
                "-e", "macos_patch_restart_delay=0", *extra]
        if check:
            args.append("--check")
        proc = ansible_playbook(str(book), *args, env=env)
        result = None
        for p in json.loads(proc.stdout)["plays"]:
            for task in p["tasks"]:
                if task["task"]["name"].endswith("Report the result"):
                    result = task["hosts"]["localhost"]["patch_result"]
        assert result is not None, proc.stdout[-4000:]
        return proc.returncode, result, json.loads(state_file.read_text())

    return play


@pytest.mark.contract
def test_recommended_only_and_no_restart_installs_only_what_needs_no_restart(mac):
    rc, r, state = mac([SAFARI, MACOS, TOOLS])
    assert rc == 0
    assert r["platform"] == "macos" and r["status"] == "patched", r
    assert r["installed"] == [SAFARI["label"]]
    assert r["held_reasons"] == {MACOS["label"]: "needs a restart and the restart policy is never",
                                 TOOLS["label"]: "not recommended"}
    assert state["calls"] == [["--list"], ["--install", SAFARI["label"]], ["--list"]]
    assert state.get("restarts", 0) == 0 and r["rebooted"] is False
    assert r["before"][SAFARI["label"]] == "17.1" and SAFARI["label"] not in r["after"]


@pytest.mark.contract
def test_restart_allowed_installs_restart_updates_with_restart(mac):
    rc, r, state = mac([SAFARI, MACOS, TOOLS], "-e", "macos_patch_restart=allowed")
    assert rc == 0 and r["status"] == "patched", r
    assert r["installed"] == [SAFARI["label"], MACOS["label"]]
    assert state["calls"][1] == ["--install", SAFARI["label"], MACOS["label"], "--restart"]
    assert state["restarts"] == 1 and r["rebooted"] is True and "restarted" in r["actions"]
    assert r["held"] == [TOOLS["label"]]


@pytest.mark.contract
def test_all_updates_when_not_recommended_only_and_exclusions_apply(mac):
    rc, r, state = mac([SAFARI, TOOLS], "-e", '{"macos_patch_recommended_only": false, "macos_patch_exclude": ["^Safari"]}')
    assert rc == 0 and r["installed"] == [TOOLS["label"]], r
    assert r["held_reasons"] == {SAFARI["label"]: "excluded by ^Safari"}
    assert state["calls"][1] == ["--install", TOOLS["label"]]


@pytest.mark.contract
def test_nothing_available_is_current_and_installs_nothing(mac):
    rc, r, state = mac([])
    assert rc == 0 and r["status"] == "current" and r["reason"] == "no updates available", r
    assert state["calls"] == [["--list"]]


@pytest.mark.contract
def test_failed_install_fails_the_host_with_the_reason(mac):
    rc, r, state = mac([SAFARI], fail_labels=[SAFARI["label"]])
    assert rc != 0 and r["status"] == "failed", r
    assert "The network connection was lost" in r["reason"] or "non-zero return code" in r["reason"], r["reason"]


@pytest.mark.contract
def test_check_mode_lists_but_installs_nothing(mac):
    rc, r, state = mac([SAFARI, MACOS], check=True)
    assert rc == 0 and r["status"] == "planned" and r["reason"] == "would install " + SAFARI["label"], r
    assert state["calls"] == [["--list"]]
