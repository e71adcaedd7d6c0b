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
Everything else (systems, power actions with their 1-11 s delay, task 42) is sushy-tools unchanged.
"""
import os
import sys

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


fakedriver.FakeDriver.get_versions = get_versions
fakedriver.FakeDriver.set_versions = set_versions
fakedriver.FakeDriver.reset_versions = reset_versions

if __name__ == "__main__":
    sys.exit(emulator.main())
