"""Run OpenStack's sushy-tools Redfish emulator (fake driver) for the lab, with firmware versions.

sushy-tools' own UpdateService.SimpleUpdate handler is what the lab tests against: it checks ImageURI and
Targets, refuses Manager (BMC) targets with 400, never downloads the image, and "upgrades" a system by
raising the second number of its BiosVersion (1.0.0 -> 1.1.0). Its fake driver, though, does not implement
firmware versions (get_versions/set_versions raise NotSupportedError, so the stock fake emulator answers
SimpleUpdate with 500 and shows no BiosVersion). This launcher adds exactly those two driver methods,
keeping the versions in the fake driver's own persisted system record, plus two failure switches read
from the run directory:
  fail-update-<system>   set_versions fails: SimpleUpdate answers 500 (a BMC rejecting the image)
  noop-update-<system>   set_versions keeps the old version: the update "succeeds" but never takes effect
The BMC (Manager) of each system reports the system's "BmcVersion" as its FirmwareVersion and its
"bmc_model" as its Model (sushy-tools itself answers "1.00" and "Joo Janta 200" for every manager), so the
emergency lane can read which servers run a BMC firmware a KEV entry names.
Everything else (systems, power actions with their 1-11 s delay, task 42) is sushy-tools unchanged.
"""
import json
import os
import re
import sys

import flask
from sushy_tools import error
from sushy_tools.emulator import main as emulator
from sushy_tools.emulator.resources.systems import fakedriver

RUN_DIR = os.environ.get("LAB_REDFISH_RUN_DIR", ".")


def _switch(kind, system):
    return os.path.exists(os.path.join(RUN_DIR, "%s-%s" % (kind, system["name"])))


def get_versions(self, identity):
    system = self._get(identity)
    return dict(system.get("versions") or {})


def set_versions(self, identity, firmware_versions):
    system = self._get(identity)
    if _switch("fail-update", system):
        raise error.NotSupportedError("lab: update of %s rejected by the failure switch" % system["name"])
    if _switch("noop-update", system):
        return
    versions = dict(system.get("versions") or {})
    versions.update(firmware_versions)
    self._update(system, versions=versions)


def reset_versions(self, identity):
    system = self._get(identity)
    self._update(system, versions=dict(system.get("initial_versions") or {}))


def get_bmc_model(self, identity):
    return self._get(identity).get("bmc_model")


_MANAGER = re.compile(r"^/redfish/v1/Managers/(?P<identity>[^/]+)/?$")


def bmc_firmware(response):
    """A manager's GET answers with the firmware version and model of its system's BMC."""
    match = _MANAGER.match(flask.request.path)
    if not match or flask.request.method != "GET" or response.status_code != 200:
        return response
    body = json.loads(response.get_data())
    systems = emulator.app.systems
    versions = systems.get_versions(match.group("identity"))
    if versions.get("BmcVersion"):
        body["FirmwareVersion"] = versions["BmcVersion"]
    model = systems.get_bmc_model(match.group("identity"))
    if model:
        body["Model"] = model
    response.set_data(json.dumps(body))
    return response


fakedriver.FakeDriver.get_versions = get_versions
fakedriver.FakeDriver.get_bmc_model = get_bmc_model
fakedriver.FakeDriver.set_versions = set_versions
fakedriver.FakeDriver.reset_versions = reset_versions

emulator.app.after_request(bmc_firmware)

if __name__ == "__main__":
    sys.exit(emulator.main())
