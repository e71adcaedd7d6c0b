"""CONTRACT TESTS for roles/thirdparty_patch (Chocolatey on Windows) against a chocolatey.chocolatey DOUBLE.

The double (collections/ansible_collections/chocolatey/chocolatey) is first on ANSIBLE_COLLECTIONS_PATH, so
chocolatey.chocolatey.win_chocolatey(_facts) resolve to action plugins that run on the controller against a
JSON state file. These tests check the role's selection (accept/reject lists, pinned packages, the test-wave
baseline in production), its exact-version installs and its verification. No coverage of Windows or Chocolatey.
"""
import json
import os
import subprocess
import sysconfig

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
DOUBLE = os.path.join(HERE, "collections")
REAL = os.path.join(sysconfig.get_paths()["purelib"], "ansible_collections", "chocolatey", "chocolatey")

PLAYBOOK = """
- name: Third-party applications
  hosts: win-app-01
  gather_facts: false
  tasks:
    - name: Update
      ansible.builtin.include_role:
        name: healthit.patching.thirdparty_patch
"""

STATE = {
    "installed": {"googlechrome": "118.0.1", "7zip": "22.1", "notepadplusplus": "8.5.0", "epic-hyperdrive": "100.2.1",
                  "vlc": "3.0.20", "adobereader": "2023.6"},
    "feed": {"googlechrome": ["118.0.1", "119.0.2", "120.0.1"], "7zip": ["22.1", "23.1"],
             "notepadplusplus": ["8.5.0", "8.6.0"], "epic-hyperdrive": ["100.2.1", "101.0.0"],
             "vlc": ["3.0.20"], "adobereader": ["2023.6", "2023.8"]},
    "pinned": ["adobereader"],
}


@pytest.fixture()
def choco(tmp_path):
    book = tmp_path / "thirdparty.yml"
    book.write_text(PLAYBOOK)
    state_file = tmp_path / "choco.json"

    def play(extra_vars, state=None, check=False):
        state_file.write_text(json.dumps(state or STATE))
        env = dict(os.environ, PATH=os.pathsep.join([VENV_BIN, os.environ.get("PATH", "")]),
                   ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([DOUBLE, os.path.join(ROOT, ".build", "collections"),
                                                             sysconfig.get_paths()["purelib"]]),
                   HEALTHIT_CHOCO_DOUBLE_STATE=str(state_file), HEALTHIT_AUDIT_DIR=str(tmp_path / "evidence"),
                   HEALTHIT_PATCH_STATE_DIR=str(tmp_path / "state"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                   ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
        args = ["-i", "win-app-01,", "-c", "local", "-e", "ansible_python_interpreter=" + os.path.join(VENV_BIN, "python"),
                "-e", json.dumps(dict(extra_vars, patch_platform="windows_workstation"))]
        if check:
            args.append("--check")
        proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), str(book), *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        result = None
        for p in json.loads(proc.stdout)["plays"]:
            for task in p["tasks"]:
                if task["task"]["name"].endswith("Report the result"):
                    result = task["hosts"]["win-app-01"]["patch_result"]
        assert result is not None, proc.stdout[-4000:]
        return proc.returncode, result, json.loads(state_file.read_text())

    return play


def installs(state):
    return [(args["name"], args["version"], args["state"]) for module, args in state["calls"] if module == "win_chocolatey"]


@pytest.mark.contract
def test_test_wave_installs_accepted_packages_at_their_available_version(choco):
    rc, r, state = choco({"thirdparty_patch_accept": ["^googlechrome$", "^7zip$", "^notepad", "^epic-", "^adobe"],
                          "thirdparty_patch_reject": ["^epic-"]})
    assert rc == 0 and r["status"] == "patched", r
    assert r["platform"] == "windows_workstation" and r["baseline_key"] == "windows:chocolatey"
    assert installs(state) == [("7zip", "23.1", "upgrade"), ("googlechrome", "120.0.1", "upgrade"),
                               ("notepadplusplus", "8.6.0", "upgrade")]
    assert r["planned"] == {"7zip": "23.1", "googlechrome": "120.0.1", "notepadplusplus": "8.6.0"}
    assert r["held"] == {"adobereader": "pinned in Chocolatey", "epic-hyperdrive": "rejected by ^epic-"}
    assert r["after"]["googlechrome"] == "120.0.1" and r["after"]["epic-hyperdrive"] == "100.2.1"
    assert "vlc" not in r["held"]  # already current: neither planned nor held


@pytest.mark.contract
def test_empty_accept_list_accepts_all_but_the_reject_list(choco):
    rc, r, state = choco({"thirdparty_patch_reject": ["chrome"]})
    assert rc == 0
    assert sorted(r["planned"]) == ["7zip", "epic-hyperdrive", "notepadplusplus"], r
    assert r["held"]["googlechrome"] == "rejected by chrome"


@pytest.mark.contract
def test_production_installs_exactly_the_baseline_and_nothing_newer(choco):
    baseline = {"googlechrome": "119.0.2", "7zip": "23.1", "vlc": "3.0.20", "notepadplusplus": "8.4.0",
                "firefox": "120.0"}
    rc, r, state = choco({"thirdparty_patch_use_baseline": True, "thirdparty_patch_baseline": baseline})
    assert rc == 0 and r["status"] == "patched", r
    # chrome goes to the baseline's 119.0.2 although 120.0.1 is in the feed; firefox is not installed here
    assert installs(state) == [("googlechrome", "119.0.2", "upgrade"), ("7zip", "23.1", "upgrade")]
    assert r["held"] == {"notepadplusplus": "newer than the baseline"}
    assert r["after"]["googlechrome"] == "119.0.2"


@pytest.mark.contract
def test_failed_install_fails_the_host(choco):
    state = dict(STATE, fail=["7zip"])
    rc, r, after = choco({"thirdparty_patch_accept": ["^7zip$"]}, state=state)
    assert rc != 0 and r["status"] == "failed", r
    assert r["reason"] == "7zip: Error when running choco upgrade 7zip: install script failed", r["reason"]
    assert after["installed"]["7zip"] == "22.1"


@pytest.mark.contract
def test_check_mode_plans_and_installs_nothing(choco):
    rc, r, state = choco({"thirdparty_patch_accept": ["^7zip$"]}, check=True)
    assert rc == 0 and r["status"] == "planned" and r["reason"] == "would install 7zip", r
    assert installs(state) == []


@pytest.mark.contract
def test_double_options_exist_in_the_real_modules():
    """The double refuses options the real modules (chocolatey.chocolatey in the venv) do not have."""
    import ast
    import yaml
    for module in ("win_chocolatey", "win_chocolatey_facts"):
        with open(os.path.join(REAL, "plugins", "modules", module + ".py"), encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        doc = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                   and node.targets[0].id == "DOCUMENTATION")
        real = set()
        for name, spec in yaml.safe_load(doc)["options"].items():
            real.add(name)
            real.update(spec.get("aliases", []))
        with open(os.path.join(DOUBLE, "ansible_collections", "chocolatey", "chocolatey", "plugins", "action",
                               module + ".py"), encoding="utf-8") as handle:
            double_tree = ast.parse(handle.read())
        options = next(node.value for node in double_tree.body if isinstance(node, ast.Assign)
                       and node.targets[0].id == "OPTIONS")
        double = {elt.value for elt in options.elts}
        assert double <= real, (module, double - real)
