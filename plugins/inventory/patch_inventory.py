# -*- coding: utf-8 -*-
# Copyright: (c) 2026, healthit.patching contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: patch_inventory
short_description: The patch programme's inventory from CMDB exports and the exception register
version_added: 0.1.0
author: healthit.patching contributors (@healthit)
description:
  - Reads one or more CMDB exports (CSV, YAML or JSON) and the exception register and builds the
    groups the patch playbooks use. Hosts under an active exception are left out of the inventory.
  - Spreadsheet exports are accepted as they come out of a spreadsheet, with a UTF-8 byte order mark,
    CRLF line ends, stray spaces and upper-case values.
  - Fails closed. A register that cannot be read, an exception without C(id), C(hosts), C(owner),
    C(approved_by), C(approved_on) or C(expires), a bad date, CIDR or pattern, a duplicate host name,
    an unknown platform or wave make the whole source fail with one message that names the file,
    the line (or record) and the field. Set C(any_unparsed_is_failed = True) in the C([inventory])
    section of C(ansible.cfg) so that such a failure stops Ansible instead of being a warning.
  - Host vars C(patch_platform), C(patch_owner), C(patch_wave), C(patch_site), C(patch_window),
    C(patch_criticality), C(patch_ha_group), C(patch_cmdb_record) (file and line of the CMDB row) and
    C(ansible_host) (from C(address)). Other CMDB columns become host vars prefixed C(cmdb_).
  - Groups, always present even when empty, one per platform (V(windows_server), V(windows_workstation),
    V(hyperv_hypervisor), V(linux), V(kvm_hypervisor), V(esxi_hypervisor), V(ios), V(iosxe), V(nxos), V(eos),
    V(junos), V(redfish)); families V(windows) (windows_server, windows_workstation, hyperv_hypervisor), V(linux)
    (linux hosts and kvm_hypervisor), V(hypervisors) (kvm, esxi and hyperv hypervisors), V(network)
    (ios, iosxe, nxos, eos, junos); V(wave_test), V(wave_production), V(exception_expired). Per value,
    C(site_<site>), C(window_<maintenance_window>) and C(ha_<ha_group>), lower-cased with characters
    other than letters, digits and C(_) replaced by C(_). Two values that would become the same group
    name are an error.
  - A Hyper-V host is both a Windows host and a hypervisor, so its platform group is a child of both
    V(windows) and V(hypervisors); a KVM host likewise of V(linux) and V(hypervisors).
  - Connection defaults are variables of the platform groups, not of the hosts, so C(group_vars/) and
    C(host_vars/) files next to the inventory override them. Network platforms use
    C(ansible.netcommon.network_cli) with C(ansible_network_os) C(cisco.ios.ios) (ios, iosxe),
    C(cisco.nxos.nxos), C(arista.eos.eos) and become method C(ansible.netcommon.enable); V(junos) uses
    C(ansible.netcommon.netconf) with C(junipernetworks.junos.junos), which its package and reboot modules
    need. Windows platforms use C(ansible.builtin.psrp) over HTTPS on port 5986; for WinRM set
    C(ansible_connection=ansible.builtin.winrm) (and C(ansible_winrm_transport)) in C(group_vars/windows.yml).
    Linux and ESXi keep Ansible's SSH default. V(redfish) (server firmware managed through the server's BMC, whose
    C(address) is the BMC's) uses C(ansible.builtin.local), because the Redfish modules run on the controller and
    speak HTTPS to the BMC; there is no OS to log in to.
  - An exception is active while today is on or before its C(expires) date. An expired exception no longer
    protects its hosts; they are in the inventory, in group V(exception_expired) and carry
    C(patch_exception_expired) (C(id), C(expires), C(owner) of the latest expired exception, C(all) ids).
  - Group C(all) gets C(patch_inventory_source=healthit.patching.patch_inventory) (the marker the wave
    playbooks check), C(patch_inventory_generated) (UTC), C(patch_inventory_today),
    C(patch_exception_register_path), C(patch_exception_register_sha256), C(patch_cmdb_sources)
    (path and SHA-256 of each export), C(patch_excluded_hosts), C(patch_exceptions_due_for_review),
    C(patch_exceptions_expired) and C(patch_exception_review_days).
  - C(patch_excluded_hosts) has one item per excluded host and active exception, with C(host), C(exception)
    (the id), C(owner), C(approved_by), C(approved_on), C(expires), C(application) and C(compensating_controls).
    C(patch_exceptions_due_for_review) lists active exceptions expiring within O(review_days) (fields as above
    with C(id), plus C(days_left) and the matched C(hosts)); C(patch_exceptions_expired) lists expired
    exceptions with the C(hosts) they no longer protect.
  - Exception patterns are matched case-insensitively against the host name (and against C(address)
    when it is a DNS name); IP addresses and CIDRs against the address. A register entry that matches
    no CMDB host, or an exact name or address in it that matches none (most likely a typo, which leaves
    the real device unprotected), is a warning, as is an unknown field in an entry.
  - With caching on, the cache key includes the SHA-256 of the configuration, of every export and of the
    register, plus O(today) and O(review_days), so a changed register is never answered from the cache.
    From the cache, C(patch_inventory_generated) is the time the cached result was built.
  - Data from the CMDB and the register is marked unsafe so it is never templated.
options:
  plugin:
    description: Marks this file as a configuration of this plugin.
    type: str
    required: true
    choices: [healthit.patching.patch_inventory]
  sources:
    description:
      - CMDB exports to read, in order. Relative paths are relative to the directory of this file.
      - The type comes from the extension, C(.csv), C(.yml), C(.yaml) or C(.json). YAML and JSON hold a list of
        host mappings, or a mapping with such a list under C(hosts).
      - Columns (keys), case and surrounding spaces ignored, C(hostname) (required, unique across all sources),
        C(address), C(platform) (required), C(owner) (required), C(wave) (required, V(test) or V(production)),
        C(site), C(maintenance_window), C(criticality) (V(clinical_critical), V(business) or V(low)), C(ha_group).
    type: list
    elements: str
    required: true
  exceptions:
    description:
      - The exception register, a YAML file with a list under C(exceptions). Relative to the directory of this file.
      - Each entry needs C(id), C(hosts) (names, glob patterns, IP addresses or CIDRs), C(owner), C(approved_by),
        C(approved_on) and C(expires) (dates as V(YYYY-MM-DD)); C(application), C(reason) and
        C(compensating_controls) are carried into the excluded-host records.
      - Write an empty list under C(exceptions) for an estate without exceptions; a missing register is an error.
    type: str
    required: true
  today:
    description:
      - The date (V(YYYY-MM-DD)) against which exceptions are judged active, expired or due for review.
      - Defaults to the current UTC date. Set it to replay a past run or to test.
    type: str
  review_days:
    description: Active exceptions that expire within this many days of O(today) are listed as due for review.
    type: int
    default: 30
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
notes:
  - The review process for exceptions is described in C(docs/exception-review.md) of the collection.
  - Point the inventory at this configuration file, or keep CMDB exports and the register outside the
    inventory directory. Ansible offers every file of an inventory directory to every enabled plugin, and
    the ini plugin reads each CSV row as a host. Hosts another plugin created from this plugin's own input
    files before it ran are removed with a warning; later ones cannot be.
seealso:
  - plugin: ansible.builtin.constructed
    plugin_type: inventory
"""

EXAMPLES = r"""
# inventories/prod/prod.patch_inventory.yml
plugin: healthit.patching.patch_inventory
sources:
  - cmdb/servers.csv
  - cmdb/network.json
exceptions: exceptions/register.yml
review_days: 45

---
# Replay the inventory as it was judged on a given day, and add groups of your own
plugin: healthit.patching.patch_inventory
sources: [cmdb/hosts.csv]
exceptions: exceptions/register.yml
today: "2026-11-22"
strict: true
groups:
  clinical_critical: patch_criticality == 'clinical_critical'
keyed_groups:
  - key: patch_owner
    prefix: owner

---
# ansible.cfg: make a source that fails to parse stop Ansible
# [inventory]
# enable_plugins = healthit.patching.patch_inventory, ansible.builtin.yaml
# any_unparsed_is_failed = True
"""

RETURN = r""" # """

import datetime
import hashlib
import json
import os

from ansible.errors import AnsibleParserError
from ansible.inventory.helpers import get_group_vars
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var
from ansible.utils.vars import combine_vars

from ansible_collections.healthit.patching.plugins.plugin_utils import _cmdb, _exception_register
from ansible_collections.healthit.patching.plugins.plugin_utils import _inventory_model
from ansible_collections.healthit.patching.plugins.plugin_utils._source_data import SourceError, file_sha256

SUFFIXES = (".patch_inventory.yml", ".patch_inventory.yaml")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """CMDB exports and the exception register as the patch programme's inventory."""

    NAME = "healthit.patching.patch_inventory"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        self.load_cache_plugin()
        base = os.path.dirname(os.path.abspath(path))
        try:
            sources = [self._resolve(base, p) for p in self.get_option("sources") or []]
            if not sources:
                raise SourceError(path, "names no CMDB export", field="sources")
            register = self._resolve(base, self.get_option("exceptions"))
            today = self._today(path)
            review_days = self.get_option("review_days")
            if review_days is None or review_days < 0:
                raise SourceError(path, "must be zero or more days", field="review_days")
            model = self._model(path, sources, register, today, review_days, cache)
        except SourceError as exc:
            raise AnsibleParserError("patch_inventory: %s" % exc) from None
        self._populate(model)
        self._drop_misread_hosts(sources + [register])
        self._drop_excluded_hosts(model)

    def _drop_excluded_hosts(self, model):
        """A host under an active exception is not in the inventory, even if another source named it first."""
        names = sorted({item["host"] for item in model["all_vars"]["patch_excluded_hosts"]
                        if item["host"] in self.inventory.hosts})
        for name in names:
            self.inventory.remove_host(self.inventory.hosts[name])
        if names:
            self.display.warning("patch_inventory: removed %s, added by another inventory source, because of an "
                                 "active exception" % ", ".join(names))

    def _drop_misread_hosts(self, paths):
        """Remove hosts another plugin made up by reading our CMDB export or register as an inventory.

        Ansible offers every file of an inventory directory to every enabled plugin; the ini plugin
        turns each CSV row into a host named after the whole row. Those hosts would bypass the
        exception register, so they go, loudly. Only files parsed before this one can be caught:
        keep exports outside the inventory directory or point the inventory at this file.
        """
        ours = {os.path.abspath(p) for p in paths}
        misread = [host for host in list(self.inventory.hosts.values())
                   if host.vars.get("inventory_file") and os.path.abspath(str(host.vars["inventory_file"])) in ours]
        for host in misread:
            self.inventory.remove_host(host)
        if misread:
            self.display.warning(
                "patch_inventory: removed %d host(s) that another inventory plugin read from %s; point the "
                "inventory at the *.patch_inventory.yml file or keep CMDB exports and the register out of the "
                "inventory directory" % (len(misread), ", ".join(sorted({str(h.vars["inventory_file"]) for h in misread}))))

    @staticmethod
    def _resolve(base, path):
        return os.path.normpath(os.path.join(base, os.path.expanduser(str(path))))

    def _today(self, path):
        value = self.get_option("today")
        if value in (None, ""):
            return datetime.datetime.now(datetime.timezone.utc).date()
        try:
            return datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            raise SourceError(path, "'%s' is not a date in the form YYYY-MM-DD" % value, field="today") from None

    def _model(self, path, sources, register_path, today, review_days, cache):
        """The inventory data, from the cache only when every input file is byte-identical."""
        fingerprint = hashlib.sha256()
        digests = []
        for source in [path] + sources + [register_path]:
            digest = file_sha256(source)
            digests.append({"path": source, "sha256": digest})
            fingerprint.update(("%s\0%s\0" % (source, digest)).encode())
        fingerprint.update(("%s\0%s" % (today.isoformat(), review_days)).encode())
        fingerprint = fingerprint.hexdigest()

        cache_key = self.get_cache_key(path)
        use_cache = bool(self.get_option("cache")) and cache
        if use_cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = None
            if isinstance(cached, dict) and cached.get("fingerprint") == fingerprint:
                return cached["model"]
        hosts = _cmdb.read_sources(sources)
        register = _exception_register.load_register(register_path)
        model = _inventory_model.build(hosts, register, today, review_days, sources=digests[1:-1])
        if self.get_option("cache"):
            # round-trip through JSON so a cached and a fresh run hand Ansible the same types
            self._cache[cache_key] = {"fingerprint": fingerprint, "model": json.loads(json.dumps(model))}
        return model

    def _populate(self, model):
        """Copy the model into the inventory, then apply compose/groups/keyed_groups."""
        inventory = self.inventory
        groups = model["groups"]
        for name in groups:
            inventory.add_group(name)
        for name, group in groups.items():
            for key, value in group["vars"].items():
                inventory.set_variable(name, key, value)
            for child in group["children"]:
                inventory.add_child(name, child)
        for hostname, hostvars in model["hosts"].items():
            inventory.add_host(hostname)
            for key, value in hostvars.items():
                inventory.set_variable(hostname, key, wrap_var(value))
        for name, group in groups.items():
            for hostname in group["hosts"]:
                inventory.add_child(name, hostname)
        for key, value in model["all_vars"].items():
            inventory.set_variable("all", key, wrap_var(value))
        for warning in model["warnings"]:
            self.display.warning("patch_inventory: %s" % warning)
        self._construct(model["hosts"])

    def _construct(self, hostnames):
        compose = self.get_option("compose")
        composed_groups = self.get_option("groups")
        keyed_groups = self.get_option("keyed_groups")
        if not (compose or composed_groups or keyed_groups):
            return
        strict = self.get_option("strict")
        for hostname in hostnames:
            host = self.inventory.get_host(hostname)
            variables = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
            self._set_composite_vars(compose, variables, hostname, strict=strict)
            variables = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
            self._add_host_to_composed_groups(composed_groups, variables, hostname, strict=strict,
                                              fetch_hostvars=False)
            self._add_host_to_keyed_groups(keyed_groups, variables, hostname, strict=strict,
                                           fetch_hostvars=False)
