"""The lab hypervisor: a real libvirtd on the test driver keeps guest state across connections.

Each Ansible run below is its own process with its own libvirt connection, so a change made by
one and seen by the next proves the state lives in libvirtd (held by the lab keeper), not in a
per-connection test driver instance.
"""
import os

import pytest

from conftest import ROOT, ansible_adhoc, run  # pylint: disable=import-error

pytestmark = pytest.mark.lab

SOCKET = os.path.join(ROOT, ".lab", "run", "libvirt", "libvirt-sock")
URI = "test+unix:///default?socket=" + SOCKET
# Implicit localhost (the controller) runs the module with the venv's Python, which has
# libvirt-python and lxml; this test is about libvirtd, not about the lab inventory.
LOCAL = ("-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + os.path.join(ROOT, ".venv", "bin", "python"))


def virt(args):
    result = ansible_adhoc("localhost", "community.libvirt.virt", args + " uri=" + URI, *LOCAL)["localhost"]
    assert not result.get("failed"), result
    return result


@pytest.fixture(scope="module")
def libvirt_lab():
    """Only the lab's hypervisor part (idempotent): this test needs nothing else of the lab."""
    run(["bash", os.path.join(ROOT, "lab", "libvirt", "up.sh")])
    return ROOT


@pytest.fixture
def seeded_lab(libvirt_lab):
    """Guests in the states lab/libvirt/guests.yml declares, before and after the test."""
    seed = [os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "lab", "libvirt", "seed.py"), "--uri", URI]
    run(seed)
    yield libvirt_lab
    run(seed)


def test_lab_guests_in_mixed_states(seeded_lab):
    info = virt("command=info")
    states = {name: info[name]["state"] for name in ("ehr-app-01", "pacs-db-01", "lis-web-01", "build-01", "print-01")}
    assert states == {"ehr-app-01": "running", "pacs-db-01": "running", "lis-web-01": "paused",
                      "build-01": "shutdown", "print-01": "running"}
    assert info["ehr-app-01"]["autostart"] == 1
    assert info["build-01"]["autostart"] == 0
    assert "test" not in info, "the test driver's built-in domain should have been removed by seed.py"


def test_state_change_persists_across_connections(seeded_lab):
    assert virt("name=build-01 command=status")["status"] == "shutdown"
    changed = virt("name=build-01 state=running")
    assert changed["changed"] is True
    # A second, separate Ansible process (new connection) sees the guest running.
    assert virt("name=build-01 command=status")["status"] == "running"
    # And a third one can stop it again, seen by a fourth.
    assert virt("name=build-01 state=destroyed")["changed"] is True
    assert virt("name=build-01 command=status")["status"] == "shutdown"


def test_guest_that_ignores_graceful_shutdown(seeded_lab):
    """print-01 has <on_poweroff>restart</on_poweroff>: a shutdown request leaves it running."""
    virt("name=print-01 command=shutdown")
    assert virt("name=print-01 command=status")["status"] == "running"
    assert virt("name=print-01 state=destroyed")["changed"] is True
    assert virt("name=print-01 command=status")["status"] == "shutdown"
