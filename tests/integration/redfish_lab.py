"""Helpers for tests that drive the lab's Redfish service (sushy-tools' emulator, lab/redfish/)."""
import base64
import json
import os
import re
import ssl
import urllib.request

from conftest import ROOT, run

RUN = os.path.join(ROOT, ".lab", "run", "redfish")
BMC = "https://127.0.0.1:8008"
# The lab's systems, and the lab-only credentials the emulator enforces (inventories/lab/group_vars/redfish.yml).
UUID = {"srv-01": "5a1b0c3e-0000-4000-8000-000000000001", "srv-02": "5a1b0c3e-0000-4000-8000-000000000002"}
BMC_USER, BMC_PASSWORD = "lab", "lab-only-bmc-secret"
SIMPLE_UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"
RESET_OF = "/redfish/v1/Systems/%s/Actions/ComputerSystem.Reset"


def reset():
    """Both servers back to BIOS 1.0.0, powered on, no failure switches, an empty request log."""
    run(["bash", os.path.join(ROOT, "lab", "redfish", "reset.sh")], timeout=120)


def emulator_posts():
    """The POST requests the emulator served since the last reset (which empties its log), in order."""
    with open(os.path.join(RUN, "emulator.log"), encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    return re.findall(r'POST (\S+) HTTP/1\.1\S*" (\d+)', text)


def _get(path):
    token = base64.b64encode(("%s:%s" % (BMC_USER, BMC_PASSWORD)).encode()).decode()
    request = urllib.request.Request(BMC + path, headers={"Authorization": "Basic " + token})
    with urllib.request.urlopen(request, timeout=10, context=ssl._create_unverified_context()) as answer:  # nosec: lab self-signed
        return json.load(answer)


def bios(server):
    """The BIOS version the emulator reports for a lab server, read over Redfish (not from Ansible)."""
    return _get("/redfish/v1/Systems/%s" % UUID[server]).get("BiosVersion")


def bmc(server):
    """(FirmwareVersion, Model) of the BMC that manages a lab server, read over Redfish (not from Ansible)."""
    manager = _get("/redfish/v1/Systems/%s" % UUID[server])["Links"]["ManagedBy"][0]["@odata.id"]
    answer = _get(manager)
    return answer.get("FirmwareVersion"), answer.get("Model")
