"""The lab's Linux hosts really patch from the signed lab repository and really reboot.

Driven through the lab inventory (inventories/lab), limited to one test-wave host, which is recreated
fresh from the image before and after each test so the other tests find it out of date again.
"""
import json
import os
import textwrap

import pytest

from conftest import ROOT, ansible_playbook, json_env, run

HOST = "lnx-test-01"
INVENTORY = os.path.join(ROOT, "inventories", "lab")

pytestmark = pytest.mark.lab


def reset_host():
    run(["bash", os.path.join(ROOT, "lab", "linux", "reset.sh"), HOST], timeout=600)


@pytest.fixture
def fresh_host(lab):
    reset_host()
    yield HOST
    reset_host()


def play(tmp_path, *chunks):
    """Run the tasks against HOST through the lab inventory; return {task name: result} for HOST."""
    tasks = "".join(textwrap.dedent(chunk) for chunk in chunks)
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent("""\
        - name: Lab Linux host check
          hosts: all
          gather_facts: false
          tasks:
        """) + textwrap.indent(tasks, "    "))
    proc = ansible_playbook(str(playbook), "-i", INVENTORY, "--limit", HOST, env=json_env(), timeout=900)
    results = {}
    for one_play in json.loads(proc.stdout)["plays"]:
        for task in one_play["tasks"]:
            results[task["task"]["name"]] = task["hosts"][HOST]
    assert set(results) >= {line.split("name:", 1)[1].strip() for line in tasks.splitlines()
                            if line.strip().startswith("- name:")}, results.keys()
    return results


VERSIONS = """\
    - name: {label}
      ansible.builtin.command: dpkg-query -W -f='${{Package}}=${{Version}}\\n' labpkg-web labpkg-util labpkg-kernel
      changed_when: false
"""


def versions(result):
    return dict(line.split("=", 1) for line in result["stdout_lines"])


def test_upgrade_and_reboot(fresh_host, tmp_path):
    res = play(tmp_path, VERSIONS.format(label="Versions before"), """\
        - name: Boot time before
          ansible.builtin.command: stat -c %Y /proc/1
          changed_when: false
        - name: Upgrade labpkg-web and labpkg-kernel to 1.1
          ansible.builtin.apt:
            name: [labpkg-web=1.1, labpkg-kernel=1.1]
            update_cache: true
        - name: Reboot required flag
          ansible.builtin.stat:
            path: /var/run/reboot-required
        - name: Reboot
          ansible.builtin.reboot:
            boot_time_command: stat -c %Y /proc/1
            reboot_timeout: 300
        - name: Boot time after
          ansible.builtin.command: stat -c %Y /proc/1
          changed_when: false
        - name: Kernel version this boot runs
          ansible.builtin.command: cat /run/labpkg-kernel.running
          changed_when: false
        - name: Reboot required flag after the reboot
          ansible.builtin.stat:
            path: /var/run/reboot-required
    """, VERSIONS.format(label="Versions after"), """\
        - name: Health of labweb after the reboot
          ansible.builtin.uri:
            url: http://127.0.0.1:8080/health
            return_content: true
          register: health
          until: health.status == 200
          retries: 30
          delay: 1
        - name: Mark version 1.1 as broken
          ansible.builtin.copy:
            dest: /etc/labweb/break-version
            content: "1.1\\n"
            mode: "0644"
        - name: Health of labweb with 1.1 marked broken
          ansible.builtin.uri:
            url: http://127.0.0.1:8080/health
            return_content: true
            status_code: [503]
        - name: Mark only version 1.0 as broken
          ansible.builtin.copy:
            dest: /etc/labweb/break-version
            content: "1.0\\n"
            mode: "0644"
        - name: Health of labweb with only 1.0 marked broken
          ansible.builtin.uri:
            url: http://127.0.0.1:8080/health
            return_content: true
    """)
    assert versions(res["Versions before"]) == {
        "labpkg-web": "1.0", "labpkg-util": "1.0", "labpkg-kernel": "1.0"}
    assert res["Upgrade labpkg-web and labpkg-kernel to 1.1"]["changed"] is True
    assert res["Reboot required flag"]["stat"]["exists"] is True

    assert res["Reboot"]["rebooted"] is True
    before = int(res["Boot time before"]["stdout"])
    after = int(res["Boot time after"]["stdout"])
    assert after > before, "PID 1 was not restarted by the reboot (%s -> %s)" % (before, after)
    assert res["Kernel version this boot runs"]["stdout"] == "1.1"
    assert res["Reboot required flag after the reboot"]["stat"]["exists"] is False

    assert versions(res["Versions after"]) == {
        "labpkg-web": "1.1", "labpkg-util": "1.0", "labpkg-kernel": "1.1"}
    health = res["Health of labweb after the reboot"]
    assert health["status"] == 200 and health["content"].strip() == "labpkg-web 1.1 ok"
    assert res["Health of labweb with 1.1 marked broken"]["status"] == 503
    assert res["Health of labweb with only 1.0 marked broken"]["status"] == 200


def test_security_only_upgrade(fresh_host, tmp_path):
    security_only = ("-o Dir::Etc::SourceList=/etc/apt/lab-security-only.list"
                     " -o Dir::Etc::SourceParts=/nonexistent")
    res = play(tmp_path, """\
        - name: Sources list with the security suite only
          ansible.builtin.copy:
            dest: /etc/apt/lab-security-only.list
            content: "deb [signed-by=/usr/share/keyrings/lab-archive-keyring.gpg] file:/srv/labrepo bookworm-security main\\n"
            mode: "0644"
        - name: Security-only update and upgrade
          ansible.builtin.shell: |
            set -e
            apt-get -q {opts} update
            DEBIAN_FRONTEND=noninteractive apt-get -q -y {opts} upgrade
          changed_when: true
    """.format(opts=security_only), VERSIONS.format(label="Versions after the security-only run"), """\
        - name: What a full upgrade would still do
          ansible.builtin.shell: |
            set -e
            apt-get -q update >/dev/null
            apt-get -s upgrade | sed -n 's/^Inst \\([^ ]*\\) .*/\\1/p'
          changed_when: false
    """)
    assert versions(res["Versions after the security-only run"]) == {
        "labpkg-web": "1.1", "labpkg-kernel": "1.1", "labpkg-util": "1.0"}
    # the difference from a full upgrade is real: bookworm-updates still offers labpkg-util
    assert res["What a full upgrade would still do"]["stdout_lines"] == ["labpkg-util"]
