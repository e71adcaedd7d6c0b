"""roles/wave_host/tasks/main.yml, one host's turn, run by ansible-playbook on localhost with a probe role.

What a caller other than the monthly wave relies on (the clinical lane passes wave_host_role, wave_host_os_checks
and wave_host_result_fields): every result wave_host or the preflight records itself carries the caller's fields;
a host outside its window is refused on the controller without being contacted; an unreachable host inside its
window is a recorded failure, not an abort; the named role runs instead of the platform's. The hosts that must not
be contacted point at a closed local port with the ssh connection: contacting them can only fail.
"""
import socket

import pytest

PLAYBOOK = """
- name: One turn for every host
  hosts: all:!localhost
  gather_facts: false
  serial: 10
  tasks:
    - name: The turn
      ansible.builtin.include_role:
        name: healthit.patching.wave_host
      vars:
        wave_host_role: probe
        wave_host_os_checks: false
        wave_host_connect_timeout: 3
        wave_host_max_fail_percentage: 100
        wave_host_result_fields: {baseline_key: "app:labapp-ehr", application: labapp-ehr}

- name: Write every host's result
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write them
      ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0600"
        content: >-
          {{ dict(__hosts | zip(__hosts | map('extract', hostvars, 'patch_result'))) | to_json }}
      vars:
        __hosts: "{{ groups['all'] | reject('eq', 'localhost') | list }}"
"""

PROBE = """---
- name: Fail when asked to
  ansible.builtin.fail:
    msg: the probe was told to fail
  when: probe_fail | default(false)

- name: Record that the probe ran
  ansible.builtin.set_fact:
    patch_result: {platform: "{{ patch_platform }}", baseline_key: "app:labapp-ehr", application: labapp-ehr,
                   status: patched, reason: probe ran, before: {}, after: {}, rebooted: false, actions: []}
"""

WINDOWS = {"always": {"timezone": "UTC", "slots": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                                    "start": "00:00", "duration": "24h"}]},
           "never": {"timezone": "UTC", "dates": [{"start": "2020-01-01 01:00", "end": "2020-01-01 02:00"}]}}
FIELDS = {"baseline_key": "app:labapp-ehr", "application": "labapp-ehr"}


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture()
def turn(local_play, tmp_path):
    tasks = tmp_path / "roles" / "probe" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(PROBE)
    port = closed_port()

    def run(hosts, halted=None):
        local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
        inventory = {"localhost": dict(local)}
        for name, spec in hosts.items():
            hostvars = {"patch_platform": "linux", "patch_window": spec["window"],
                        "patch_maintenance_windows": WINDOWS, "probe_fail": spec.get("fail", False)}
            if spec.get("reachable", True):
                hostvars.update(local)
            else:
                hostvars.update(ansible_connection="ssh", ansible_host="127.0.0.1", ansible_port=port,
                                ansible_ssh_common_args="-o ConnectTimeout=1 -o StrictHostKeyChecking=no")
            inventory[name] = hostvars
        if halted:
            inventory["localhost"].update(patch_wave_halted=True, patch_wave_halted_reason=halted)
        results = local_play(PLAYBOOK, inventory, {})
        return {name: results[name] for name in hosts}
    return run


def test_turn_records_the_callers_fields_and_contacts_no_host_outside_its_window(turn):
    results = turn({
        "closed-unreachable": {"window": "never", "reachable": False},
        "open-unreachable": {"window": "always", "reachable": False},
        "open-ok": {"window": "always"},
        "open-fails": {"window": "always", "fail": True},
    })
    closed = results["closed-unreachable"]
    # refused on the controller: had it been contacted, it would have failed as unreachable
    assert closed["status"] == "skipped" and closed["reason"].startswith("refused by preflight: "), closed
    unreachable = results["open-unreachable"]
    assert unreachable["status"] == "failed", unreachable
    assert unreachable["reason"].startswith("Wait for the host to answer failed"), unreachable
    assert results["open-ok"]["status"] == "patched" and results["open-ok"]["reason"] == "probe ran"
    failed = results["open-fails"]
    assert failed["status"] == "failed" and "the probe was told to fail" in failed["reason"], failed
    for name, result in results.items():
        assert {k: result.get(k) for k in FIELDS} == FIELDS, (name, result)
        assert result["platform"] == "linux", (name, result)


def test_halted_run_skips_every_host_with_the_callers_fields(turn):
    results = turn({"open-ok": {"window": "always"}}, halted="1 of 2 hosts failed (x)")
    result = results["open-ok"]
    assert result["status"] == "skipped" and result["reason"] == "wave halted: 1 of 2 hosts failed (x)", result
    assert {k: result.get(k) for k in FIELDS} == FIELDS
