"""Load healthit.patching.patch_inventory through Ansible's own plugin loader, as the CLI does."""
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")


@pytest.fixture(scope="session")
def inventory_plugin_loader():
    import sys

    from ansible.plugins.loader import init_plugin_loader, inventory_loader

    init_plugin_loader([COLLECTIONS])
    # Tests collected earlier may have imported the collection through sys.path (tests/conftest.py),
    # before Ansible's collection finder existed; that package then lacks the metadata the finder
    # attaches while loading it. meta/runtime.yml routes nothing, so empty metadata is equivalent.
    package = sys.modules.get("ansible_collections.healthit.patching")
    if package is not None and getattr(package, "_collection_meta", None) is None:
        package._collection_meta = {}
    return inventory_loader


class WarningRecorder:
    """Stands in for the plugin's Display so a test can read the warnings it gave."""

    def __init__(self, real):
        self.real = real
        self.warnings = []

    def warning(self, msg, *args, **kwargs):
        self.warnings.append(msg)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def patch_inventory(inventory_plugin_loader):
    """A fresh plugin instance with its warnings recorded."""
    plugin = inventory_plugin_loader.get("healthit.patching.patch_inventory")
    assert plugin is not None, "healthit.patching.patch_inventory not found under %s" % COLLECTIONS
    plugin.display = WarningRecorder(plugin.display)
    return plugin
