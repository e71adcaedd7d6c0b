"""roles/wave_host/tasks/slots.yml, the HA slots of both wave playbooks, run by ansible-playbook on localhost.

Each case of data/slots_cases.yml gets an inventory of its own (no host is contacted: slots.yml only reads
hostvars and calls add_host on the controller), and the groups and patch_slot_peers_before it produced are
written to a file the test reads.
"""
import json
import os
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "slots_cases.yml"), encoding="utf-8") as _f:
    CASES = yaml.safe_load(_f)

PLAYBOOK = """
- name: Place the hosts of the run in HA slots
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Slots
      block:
        - name: Put the hosts in slots
          ansible.builtin.include_role:
            name: healthit.patching.wave_host
            tasks_from: slots.yml
          vars:
            wave_host_slot_hosts: "{{ slot_hosts }}"
      rescue:
        - name: Keep the refusal
          ansible.builtin.set_fact:
            slot_error: "{{ ansible_failed_result.msg }}"
    - name: Write what was placed
      ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0600"
        content: >-
          {{ {'error': slot_error | default(none),
              'wave_hosts': groups['patch_wave_hosts'] | default([]) | sort,
              'slots': dict(groups | dict2items | selectattr('key', 'match', '^patch_slot_[0-9]+$')
                            | map(attribute='key') | zip(groups | dict2items
                            | selectattr('key', 'match', '^patch_slot_[0-9]+$') | map(attribute='value'))),
              'peers_before': dict(groups['patch_wave_hosts'] | default([])
                                   | zip(groups['patch_wave_hosts'] | default([])
                                         | map('extract', hostvars, 'patch_slot_peers_before')))} | to_json }}
"""


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    """This checkout as the installed healthit.patching, whatever the environment has set up."""
    base = tmp_path_factory.mktemp("collections")
    os.makedirs(base / "ansible_collections" / "healthit")
    os.symlink(ROOT, base / "ansible_collections" / "healthit" / "patching")
    return str(base)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_slots(case, collections, tmp_path):
    hosts = {name: ({"ansible_connection": "local"} if group is None
                    else {"ansible_connection": "local", "patch_ha_group": group})
             for name, group in case["inventory"].items()}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    out = tmp_path / "out.json"
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    # Only this test's settings: no audit callback, no inventory of the lab.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0")
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"),
                           str(tmp_path / "play.yml"), "-e", json.dumps({"slot_hosts": case["run"], "out": str(out)})],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    placed = json.loads(out.read_text())
    if "refused" in case:
        assert case["refused"] in placed["error"]
        assert placed["wave_hosts"] == [] and placed["slots"] == {}
        return
    assert placed["error"] is None
    assert placed["wave_hosts"] == sorted(case["run"])
    slots = {host: int(group.rsplit("_", 1)[1]) for group, members in placed["slots"].items() for host in members}
    assert slots == case["slots"]
    assert placed["peers_before"] == case["peers_before"]
