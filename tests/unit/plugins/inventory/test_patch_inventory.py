"""healthit.patching.patch_inventory, parsed by the real plugin from files written per case.

The cases live in data/patch_inventory/cases.yml; see the comment at its top for their format.
"""
import os
import shutil

import pytest
import yaml
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "patch_inventory")
BASE = os.path.join(DATA, "base")
DEFAULT_CONFIG = {
    "plugin": "healthit.patching.patch_inventory",
    "sources": ["cmdb/hosts.csv"],
    "exceptions": "exceptions/register.yml",
    "today": "2026-11-22",
}

with open(os.path.join(DATA, "cases.yml"), encoding="utf-8") as _handle:
    CASES = yaml.safe_load(_handle)


def write_case(tmp_path, case):
    """Lay the case out in tmp_path and return the path of its plugin configuration."""
    shutil.copytree(BASE, tmp_path, dirs_exist_ok=True)
    for name, content in (case.get("files") or {}).items():
        target = tmp_path / name
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
            continue
        if name in case.get("crlf", []):
            content = content.replace("\n", "\r\n")
        data = content.encode("utf-8")
        if name in case.get("bom", []):
            data = b"\xef\xbb\xbf" + data
        target.write_bytes(data)
    config = dict(DEFAULT_CONFIG, **(case.get("config") or {}))
    path = tmp_path / "t.patch_inventory.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(path)


def parse(plugin, path, cache=False):
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), path, cache=cache)
    plugin.update_cache_if_changed()  # as InventoryManager does after each source
    return inventory


def plain(value):
    """Inventory values as plain Python, for comparison with the YAML expectations."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def group_hosts(inventory, name):
    return sorted(h.name for h in inventory.groups[name].hosts)


def check(inventory, expect, warnings):
    hosts = set(inventory.hosts)
    if "hosts" in expect:
        assert hosts == set(expect["hosts"])
    for name in expect.get("absent", []):
        assert name not in hosts, "%s should have been left out" % name
    for name in expect.get("present", []):
        assert name in hosts
    for name, members in expect.get("groups", {}).items():
        assert name in inventory.groups, "group %s missing" % name
        assert group_hosts(inventory, name) == sorted(members), name
    for name, members in expect.get("all_hosts_in", {}).items():
        assert sorted(h.name for h in inventory.groups[name].get_hosts()) == sorted(members), name
    for name, children in expect.get("children", {}).items():
        assert sorted(g.name for g in inventory.groups[name].child_groups) == sorted(children), name
    for name, variables in expect.get("group_vars", {}).items():
        group_vars = plain(inventory.groups[name].get_vars())
        if not variables:
            assert group_vars == {}, name
        for key, value in variables.items():
            assert group_vars.get(key) == value, "%s: %s" % (name, key)
    for name, variables in expect.get("hostvars", {}).items():
        host_vars = plain(inventory.get_host(name).get_vars())
        for key, value in variables.items():
            assert key in host_vars, "%s lacks %s" % (name, key)
            assert host_vars[key] == value, "%s: %s" % (name, key)
    for name, keys in expect.get("hostvars_absent", {}).items():
        host_vars = inventory.get_host(name).get_vars()
        for key in keys:
            assert key not in host_vars, "%s should not have %s" % (name, key)
    all_vars = plain(inventory.groups["all"].get_vars())
    for key, value in expect.get("all_vars", {}).items():
        assert all_vars.get(key) == value, key
    for key, projections in expect.get("all_vars_keys", {}).items():
        for field, values in projections.items():
            assert [item[field] for item in all_vars[key]] == values, "%s.%s" % (key, field)
    for text in expect.get("warnings", []):
        assert any(text in w for w in warnings), "no warning contains %r: %r" % (text, warnings)
    if expect.get("no_warnings"):
        assert warnings == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case, tmp_path, patch_inventory):
    path = write_case(tmp_path, case)
    if "error" in case:
        with pytest.raises(AnsibleError) as caught:
            parse(patch_inventory, path)
        message = str(caught.value)
        for text in case["error"]:
            assert text in message, "%r not in %r" % (text, message)
        return
    inventory = parse(patch_inventory, path)
    check(inventory, case.get("expect", {}), patch_inventory.display.warnings)


def test_marker_and_digests_name_the_inputs(tmp_path, patch_inventory):
    import hashlib

    path = write_case(tmp_path, {})
    inventory = parse(patch_inventory, path)
    all_vars = plain(inventory.groups["all"].get_vars())
    register = tmp_path / "exceptions" / "register.yml"
    cmdb = tmp_path / "cmdb" / "hosts.csv"
    assert all_vars["patch_inventory_source"] == "healthit.patching.patch_inventory"
    assert all_vars["patch_exception_register_path"] == str(register)
    assert all_vars["patch_exception_register_sha256"] == hashlib.sha256(register.read_bytes()).hexdigest()
    assert all_vars["patch_cmdb_sources"] == [
        {"path": str(cmdb), "sha256": hashlib.sha256(cmdb.read_bytes()).hexdigest()}]
    assert all_vars["patch_inventory_generated"].endswith("+00:00")


def test_data_from_outside_is_never_templated(tmp_path, patch_inventory):
    from ansible.template import Templar

    case = {"files": {"cmdb/hosts.csv": "hostname,platform,owner,wave,note\n"
                                        "t-01,linux,\"{{ lookup('env', 'HOME') }}\",test,{{ 7 * 6 }}\n"}}
    inventory = parse(patch_inventory, write_case(tmp_path, case))
    host_vars = inventory.get_host("t-01").get_vars()
    templar = Templar(loader=DataLoader(), variables=host_vars)
    assert templar.template(host_vars["cmdb_note"]) == "{{ 7 * 6 }}"
    assert templar.template(host_vars["patch_owner"]) == "{{ lookup('env', 'HOME') }}"


@pytest.mark.parametrize("name,wanted", [
    ("lab.patch_inventory.yml", True),
    ("lab.patch_inventory.yaml", True),
    ("lab.yml", False),
    ("patch_inventory.yml.bak", False),
    ("hosts.csv", False),
])
def test_verify_file_by_suffix(name, wanted, tmp_path, patch_inventory):
    path = tmp_path / name
    path.write_text("plugin: healthit.patching.patch_inventory\n", encoding="utf-8")
    assert patch_inventory.verify_file(str(path)) is wanted


def test_verify_file_needs_the_file(tmp_path, patch_inventory):
    assert patch_inventory.verify_file(str(tmp_path / "missing.patch_inventory.yml")) is False


def test_group_vars_files_override_connection_defaults(tmp_path, inventory_plugin_loader):
    """The platform group's connection defaults lose to group_vars/ and host_vars/ next to the inventory."""
    from ansible.inventory.manager import InventoryManager
    from ansible.vars.manager import VariableManager

    path = write_case(tmp_path, {})
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "network.yml").write_text("ansible_become_method: lab.enable\n", encoding="utf-8")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "sw-01.yml").write_text("ansible_connection: ansible.netcommon.libssh\n",
                                                      encoding="utf-8")
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[path])
    assert "sw-01" in manager.hosts, "the plugin did not parse %s (enable_plugins?)" % path
    variables = VariableManager(loader=loader, inventory=manager)

    sw01 = variables.get_vars(host=manager.get_host("sw-01"))
    assert sw01["ansible_connection"] == "ansible.netcommon.libssh"
    assert sw01["ansible_become_method"] == "lab.enable"
    assert sw01["ansible_network_os"] == "cisco.ios.ios"
    sw02 = variables.get_vars(host=manager.get_host("sw-02"))
    assert sw02["ansible_connection"] == "ansible.netcommon.network_cli"
    assert sw02["ansible_become_method"] == "lab.enable"
    web = variables.get_vars(host=manager.get_host("web-01"))
    assert "ansible_connection" not in web


def test_hosts_misread_from_our_csv_by_another_plugin_are_removed(tmp_path, patch_inventory, inventory_plugin_loader):
    """An inventory directory offers the CSV to the ini plugin, which makes a host of each row."""
    # values without spaces: the ini plugin fails outright on a CSV row with a space in it
    path = write_case(tmp_path, {"files": {"cmdb/hosts.csv": (
        "hostname,address,platform,owner,wave\n"
        "web-01,10.0.1.11,linux,infra-linux,test\n"
        "pacs-ws-01,10.20.30.5,windows_workstation,radiology-it,production\n")}})
    inventory = InventoryData()
    ini = inventory_plugin_loader.get("ansible.builtin.ini")
    csv_path = str(tmp_path / "cmdb" / "hosts.csv")
    inventory.current_source = csv_path
    ini.parse(inventory, DataLoader(), csv_path)
    assert any("," in name for name in inventory.hosts)  # the ini plugin's reading of a CSV
    inventory.current_source = path
    patch_inventory.parse(inventory, DataLoader(), path, cache=False)
    assert not [name for name in inventory.hosts if "," in name]
    assert sorted(inventory.hosts) == ["web-01"]
    assert any("removed 3 host(s)" in w for w in patch_inventory.display.warnings)


def test_excluded_host_named_by_an_earlier_source_is_removed(tmp_path, patch_inventory):
    path = write_case(tmp_path, {})
    inventory = InventoryData()
    inventory.current_source = str(tmp_path / "static.yml")
    inventory.add_group("pacs")
    inventory.add_host("pacs-ws-01", group="pacs")
    inventory.current_source = path
    patch_inventory.parse(inventory, DataLoader(), path, cache=False)
    assert "pacs-ws-01" not in inventory.hosts
    assert not inventory.groups["pacs"].hosts
    assert any("removed pacs-ws-01" in w for w in patch_inventory.display.warnings)


def cache_config(tmp_path):
    return {"config": {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                       "cache_connection": str(tmp_path / "cache"), "cache_timeout": 3600}}


def test_cache_serves_an_unchanged_inventory(tmp_path, inventory_plugin_loader):
    path = write_case(tmp_path, cache_config(tmp_path))
    first = inventory_plugin_loader.get("healthit.patching.patch_inventory")
    generated = plain(parse(first, path, cache=True).groups["all"].get_vars())["patch_inventory_generated"]
    assert os.listdir(tmp_path / "cache"), "nothing was cached"
    second = inventory_plugin_loader.get("healthit.patching.patch_inventory")
    # a changed 'generated' time would mean the sources were parsed again
    inventory = parse(second, path, cache=True)
    assert plain(inventory.groups["all"].get_vars())["patch_inventory_generated"] == generated
    assert "pacs-ws-01" not in inventory.hosts


def test_data_from_the_cache_is_never_templated(tmp_path, inventory_plugin_loader):
    from ansible.template import Templar

    case = cache_config(tmp_path)
    case["files"] = {"cmdb/hosts.csv": "hostname,platform,owner,wave,note\nt-01,linux,o,test,{{ 7 * 6 }}\n"}
    path = write_case(tmp_path, case)
    parse(inventory_plugin_loader.get("healthit.patching.patch_inventory"), path, cache=True)
    second = inventory_plugin_loader.get("healthit.patching.patch_inventory")
    inventory = parse(second, path, cache=True)
    host_vars = inventory.get_host("t-01").get_vars()
    assert Templar(loader=DataLoader(), variables=host_vars).template(host_vars["cmdb_note"]) == "{{ 7 * 6 }}"


def test_cache_never_hides_a_changed_register(tmp_path, inventory_plugin_loader):
    path = write_case(tmp_path, cache_config(tmp_path))
    first = parse(inventory_plugin_loader.get("healthit.patching.patch_inventory"), path, cache=True)
    assert "web-01" in first.hosts
    register = tmp_path / "exceptions" / "register.yml"
    register.write_text(register.read_text(encoding="utf-8") + (
        "  - {id: NEW, hosts: [web-01], owner: o, approved_by: CISO, approved_on: 2026-11-01, "
        "expires: 2027-01-01}\n"), encoding="utf-8")
    second = parse(inventory_plugin_loader.get("healthit.patching.patch_inventory"), path, cache=True)
    assert "web-01" not in second.hosts


def test_cache_never_hides_a_corrupt_register(tmp_path, inventory_plugin_loader):
    path = write_case(tmp_path, cache_config(tmp_path))
    parse(inventory_plugin_loader.get("healthit.patching.patch_inventory"), path, cache=True)
    (tmp_path / "exceptions" / "register.yml").write_text("exceptions:\n  - id: [\n", encoding="utf-8")
    with pytest.raises(AnsibleError, match="register.yml"):
        parse(inventory_plugin_loader.get("healthit.patching.patch_inventory"), path, cache=True)


def test_populate_from_a_model_without_files(patch_inventory):
    """_populate() only copies a model into the inventory: testable without files or the CLI."""
    import datetime

    from ansible_collections.healthit.patching.plugins.plugin_utils import _cmdb, _inventory_model
    from ansible_collections.healthit.patching.plugins.plugin_utils._exception_register import Register

    hosts = [_cmdb.make_host({"hostname": "m-01", "platform": "eos", "owner": "net", "wave": "test",
                              "site": "North Clinic"}, {}, "mem.csv", line=2)]
    model = _inventory_model.build(hosts, Register("mem.yml", "0" * 64, []), datetime.date(2026, 11, 22),
                                   generated="2026-11-22T00:00:00+00:00")
    patch_inventory.set_options(direct={"plugin": "healthit.patching.patch_inventory", "sources": ["mem.csv"],
                                        "exceptions": "mem.yml"})
    patch_inventory.inventory = InventoryData()
    patch_inventory._populate(model)  # pylint: disable=protected-access
    inventory = patch_inventory.inventory
    assert group_hosts(inventory, "eos") == ["m-01"]
    assert group_hosts(inventory, "site_north_clinic") == ["m-01"]
    assert plain(inventory.groups["all"].get_vars())["patch_inventory_generated"] == "2026-11-22T00:00:00+00:00"
