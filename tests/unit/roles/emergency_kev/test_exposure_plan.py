"""roles/emergency_kev/tasks/exposure.yml for network devices, run by ansible-playbook on localhost.

The facts the facts play would read from the lab switches are given as host vars (no device is contacted:
exposure.yml runs on the controller), with the lab's approved catalogue; the real kev_exposure module joins them
to a lab copy of the KEV snapshot and the advisory file of the case. The plan and the HA slots are written to a file
the test reads. The same paths run against the emulated switches in tests/integration/test_emergency_kev.py.
"""
import json
import os
import sys

import pytest
import yaml

from conftest import ROOT, SLOT_GROUPS, slots_of

ADVISORIES = os.path.join(ROOT, "tests", "data", "advisories")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "exposure_plan_cases.yml"),
          encoding="utf-8") as _f:
    CASES = yaml.safe_load(_f)
with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "network.yml"), encoding="utf-8") as _f:
    CATALOGUE = yaml.safe_load(_f)["network_firmware_catalogue"]
sys.path.insert(0, os.path.join(ROOT, "tests", "data", "kev"))
from lab_catalog import lab_catalog  # noqa: E402  (test data generator, not a module of the collection)

# The lab switches as the facts play reads them (lab/switches/lab-switches.yml, inventories/lab/cmdb/hosts.csv).
SWITCHES = {
    "sw-core-01": {"group": "core-pair", "version": "17.09.04", "model": "C9300-48P"},
    "sw-core-02": {"group": "core-pair", "version": "17.09.04", "model": "C9300-48P"},
    "sw-access-01": {"group": "", "version": "15.2(7)E3", "model": "WS-C2960X-48FPD-L"},
}

PLAYBOOK = """
- name: Plan an emergency for the given facts
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The gate's outputs exposure.yml reads
      ansible.builtin.set_fact:
        patch_emergency_gate: {change_ticket: ECHG0042, kev_ids: "{{ cves }}", catalog: {path: "{{ catalog }}", version: lab}}
        __emergency_kev_scope: "{{ groups['all'] | sort }}"
    - name: Exposure, plan, slots
      ansible.builtin.include_role:
        name: healthit.patching.emergency_kev
        tasks_from: exposure.yml
      vars:
        emergency_kev_firmware_advisories: "{{ advisories }}"
        emergency_kev_state_dir: "{{ state_dir }}"
    - name: Write the plan and the slots
      ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0600"
        content: >-
          {{ {'plan': patch_emergency_plan,
              'slots': %s} | to_json }}
""" % SLOT_GROUPS


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_network_plan(case, local_play, tmp_path):
    catalogue = {"ios": {m: v for m, v in CATALOGUE["ios"].items() if m != case.get("catalogue_without")}}
    hosts = {}
    for name, sw in SWITCHES.items():
        hosts[name] = {"ansible_connection": "local", "patch_platform": "ios", "patch_ha_group": sw["group"],
                       "patch_criticality": "clinical_critical", "network_firmware_catalogue": catalogue,
                       "kev_facts": {"platform": "ios", "criticality": "clinical_critical", "model": sw["model"],
                                     "firmware": {"platform": "ios", "version": sw["version"]}}}
    with open(tmp_path / "kev.json", "w", encoding="utf-8") as f:
        json.dump(lab_catalog(case["cves"]), f)
    placed = local_play(PLAYBOOK, hosts, {
        "cves": case["cves"], "catalog": str(tmp_path / "kev.json"), "state_dir": str(tmp_path / "state"),
        "advisories": os.path.join(ADVISORIES, case["advisories"])})
    plan = placed["plan"]
    got = {h: {k: e[k] for k in ("action", "firmware_target", "reason")} for h, e in plan["hosts"].items()}
    assert got == case["plan"]
    assert plan["not_exposed"] == sorted(case["not_exposed"])
    assert sorted(plan["patch"]) == sorted(case["slots"])
    assert slots_of(placed["slots"]) == case["slots"]
