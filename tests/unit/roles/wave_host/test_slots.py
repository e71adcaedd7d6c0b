"""roles/wave_host/tasks/slots.yml, the HA slots of both wave playbooks, run by ansible-playbook on localhost.

Each case of data/slots_cases.yml gets an inventory of its own (no host is contacted: slots.yml only reads
hostvars and calls add_host on the controller), and the groups and patch_slot_peers_before it produced are
written to a file the test reads.
"""
import os

import pytest
import yaml

from conftest import SLOT_GROUPS, slots_of

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
              'slots': %s,
              'peers_before': dict(groups['patch_wave_hosts'] | default([])
                                   | zip(groups['patch_wave_hosts'] | default([])
                                         | map('extract', hostvars, 'patch_slot_peers_before')))} | to_json }}
""" % SLOT_GROUPS


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_slots(case, local_play):
    hosts = {name: ({"ansible_connection": "local"} if group is None
                    else {"ansible_connection": "local", "patch_ha_group": group})
             for name, group in case["inventory"].items()}
    placed = local_play(PLAYBOOK, hosts, {"slot_hosts": case["run"]})
    if "refused" in case:
        assert case["refused"] in placed["error"]
        assert placed["wave_hosts"] == [] and placed["slots"] == {}
        return
    assert placed["error"] is None
    assert placed["wave_hosts"] == sorted(case["run"])
    assert slots_of(placed["slots"]) == case["slots"]
    assert placed["peers_before"] == case["peers_before"]
