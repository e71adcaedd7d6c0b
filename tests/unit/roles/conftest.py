"""Fixtures for unit tests of role task files run by ansible-playbook on localhost (no host is contacted)."""
import json
import os
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")

# Jinja for a test playbook: the patch_slot_<n> groups the run made, as {group: [hosts]}.
SLOT_GROUPS = ("dict(groups | dict2items | selectattr('key', 'match', '^patch_slot_[0-9]+$') | map(attribute='key')"
               " | zip(groups | dict2items | selectattr('key', 'match', '^patch_slot_[0-9]+$') | map(attribute='value')))")


def slots_of(groups):
    """{host: slot number} from SLOT_GROUPS' output."""
    return {host: int(group.rsplit("_", 1)[1]) for group, members in groups.items() for host in members}


@pytest.fixture(scope="session")
def collections(tmp_path_factory):
    """This checkout as the installed healthit.patching, whatever the environment has set up."""
    base = tmp_path_factory.mktemp("collections")
    os.makedirs(base / "ansible_collections" / "healthit")
    os.symlink(ROOT, base / "ansible_collections" / "healthit" / "patching")
    return str(base)


@pytest.fixture()
def local_play(collections, tmp_path):
    """local_play(playbook, hosts, extra) -> what the playbook wrote as JSON to the file named by the extra var out.

    ``hosts`` ({name: hostvars}) becomes the run's inventory. Only the test's settings apply: no audit callback,
    no inventory or state of the lab.
    """
    def play(playbook, hosts, extra):
        out = tmp_path / "out.json"
        (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        (tmp_path / "play.yml").write_text(playbook)
        (tmp_path / "ansible.cfg").write_text("[defaults]\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "HEALTHIT_"))}
        env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0")
        proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"),
                               str(tmp_path / "play.yml"), "-e", json.dumps(dict(extra, out=str(out)))],
                              cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False, timeout=300)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        return json.loads(out.read_text())
    return play
