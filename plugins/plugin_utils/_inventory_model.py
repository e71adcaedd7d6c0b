# Private to the healthit.patching collection: not a public API, may change without notice.
"""From CMDB hosts and the exception register to the inventory the playbooks patch.

The result is plain data (JSON-serialisable, so the plugin can cache it): hosts with their vars,
groups with vars, children and hosts, the vars of `all`, and warnings. The inventory plugin only
copies it into Ansible's inventory. No Ansible imports.
"""
from __future__ import annotations

import datetime
import re

from ._cmdb import PLATFORM_FAMILIES, PLATFORMS, WAVES
from ._exception_register import KIND_ADDRESS, KIND_NAME, ExceptionIndex
from ._source_data import SourceError

SOURCE_MARKER = "healthit.patching.patch_inventory"
FAMILIES = ("windows", "linux", "hypervisors", "network")
EXPIRED_GROUP = "exception_expired"

_NETWORK_CLI = "ansible.netcommon.network_cli"
_ENABLE = {"ansible_become": True, "ansible_become_method": "ansible.netcommon.enable"}
_WINDOWS = {"ansible_connection": "ansible.builtin.psrp", "ansible_psrp_protocol": "https", "ansible_port": 5986}

# Connection defaults, set on the platform groups (not on hosts) so group_vars/ and host_vars/
# files of the inventory override them. Linux and ESXi keep Ansible's ssh default.
CONNECTION_DEFAULTS = {
    "ios": dict(ansible_connection=_NETWORK_CLI, ansible_network_os="cisco.ios.ios", **_ENABLE),
    "iosxe": dict(ansible_connection=_NETWORK_CLI, ansible_network_os="cisco.ios.ios", **_ENABLE),
    "nxos": dict(ansible_connection=_NETWORK_CLI, ansible_network_os="cisco.nxos.nxos", **_ENABLE),
    "eos": dict(ansible_connection=_NETWORK_CLI, ansible_network_os="arista.eos.eos", **_ENABLE),
    "junos": {"ansible_connection": "ansible.netcommon.netconf",
              "ansible_network_os": "junipernetworks.junos.junos"},
    "windows_server": dict(_WINDOWS),
    "windows_workstation": dict(_WINDOWS),
    "hyperv_hypervisor": dict(_WINDOWS),
    # A BMC is reached over HTTPS by the Redfish modules, which run on the controller: there is no OS
    # session to open, and the CMDB address is the BMC's.
    "redfish": {"ansible_connection": "ansible.builtin.local"},
}

_GROUP_JUNK = re.compile(r"[^a-z0-9_]")


def group_name(prefix, value):
    """site_<x>, window_<x>, ha_<x>: lower case, anything but letters, digits and '_' becomes '_'."""
    return prefix + _GROUP_JUNK.sub("_", value.lower())


def _group(model, name):
    group = model["groups"].get(name)
    if group is None:
        group = model["groups"][name] = {"vars": {}, "children": [], "hosts": []}
    return group


def _skeleton():
    model = {"hosts": {}, "groups": {}, "all_vars": {}, "warnings": []}
    for family in FAMILIES:
        _group(model, family)
    for platform in PLATFORMS:
        group = _group(model, platform)
        group["vars"].update(CONNECTION_DEFAULTS.get(platform, {}))
        for family in PLATFORM_FAMILIES[platform]:
            _group(model, family)["children"].append(platform)
    for wave in WAVES:
        _group(model, "wave_" + wave)
    _group(model, EXPIRED_GROUP)
    return model


def _exception_summary(entry):
    return {
        "id": entry.id,
        "owner": entry.owner,
        "approved_by": entry.approved_by,
        "approved_on": entry.approved_on.isoformat(),
        "expires": entry.expires.isoformat(),
        "application": entry.application,
        "compensating_controls": list(entry.compensating_controls),
    }


def build(hosts, register, today, review_days=30, generated=None, sources=None):
    """The inventory as plain data. `hosts` from _cmdb.read_sources, `register` from load_register."""
    if generated is None:
        generated = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    model = _skeleton()
    model["warnings"].extend(register.warnings)
    exceptions = register.exceptions
    index = ExceptionIndex(exceptions)
    matched_patterns = set()
    matched_exceptions = {}   # exception index -> [host names]
    excluded = []
    expired_hosts = {}        # exception index -> [host names]
    dynamic_groups = {}       # group name -> (raw value, where first seen)

    def dynamic(prefix, field, value, host):
        name = group_name(prefix, value)
        seen = dynamic_groups.get(name)
        if seen is None:
            dynamic_groups[name] = (value.lower(), host.where)
            _group(model, name)
        elif seen[0] != value.lower():
            raise SourceError(host.path, "'%s' and '%s' (%s) would both become group %s"
                              % (value, seen[0], seen[1], name), line=host.line, row=host.row, field=field)
        return name

    groups = model["groups"]
    for host in hosts:
        refs = index.match(host.hostname, host.address, host.ip) if exceptions else ()
        active = []
        expired = []
        for exc_index, pat_index in refs:
            matched_patterns.add((exc_index, pat_index))
            matched_exceptions.setdefault(exc_index, set()).add(host.hostname)
            entry = exceptions[exc_index]
            (active if entry.is_active(today) else expired).append((exc_index, entry))
        if active:
            for entry in sorted({e for _i, e in active}, key=lambda e: e.id):
                summary = _exception_summary(entry)
                summary["exception"] = summary.pop("id")
                summary["host"] = host.hostname
                excluded.append(summary)
            continue

        hostvars = {
            "patch_platform": host.platform,
            "patch_owner": host.owner,
            "patch_wave": host.wave,
            "patch_site": host.site,
            "patch_window": host.window,
            "patch_criticality": host.criticality,
            "patch_ha_group": host.ha_group,
            "patch_cmdb_record": host.where,
        }
        if host.address:
            hostvars["ansible_host"] = host.address
        hostvars.update(host.extra)
        member_of = [host.platform, "wave_" + host.wave]
        if host.site:
            member_of.append(dynamic("site_", "site", host.site, host))
        if host.window:
            member_of.append(dynamic("window_", "maintenance_window", host.window, host))
        if host.ha_group:
            member_of.append(dynamic("ha_", "ha_group", host.ha_group, host))
        if expired:
            expired = dict(expired)
            latest = max(expired.values(), key=lambda e: (e.expires, e.id))
            hostvars["patch_exception_expired"] = {
                "id": latest.id, "expires": latest.expires.isoformat(), "owner": latest.owner,
                "all": sorted(e.id for e in expired.values()),
            }
            member_of.append(EXPIRED_GROUP)
            for exc_index in expired:
                expired_hosts.setdefault(exc_index, []).append(host.hostname)
        model["hosts"][host.hostname] = hostvars
        for name in member_of:
            groups[name]["hosts"].append(host.hostname)

    horizon = today + datetime.timedelta(days=review_days)
    due = []
    expired_list = []
    for exc_index, entry in enumerate(exceptions):
        if entry.is_active(today) and entry.expires <= horizon:
            item = _exception_summary(entry)
            item["days_left"] = (entry.expires - today).days
            item["hosts"] = sorted(matched_exceptions.get(exc_index, ()))
            due.append(item)
        if not entry.is_active(today):
            item = _exception_summary(entry)
            item["hosts"] = sorted(expired_hosts.get(exc_index, ()))
            expired_list.append(item)
        _warn_unmatched(model, entry, exc_index, matched_patterns, exc_index in matched_exceptions)

    model["all_vars"] = {
        "patch_inventory_source": SOURCE_MARKER,
        "patch_inventory_generated": generated,
        "patch_inventory_today": today.isoformat(),
        "patch_exception_register_path": register.path,
        "patch_exception_register_sha256": register.sha256,
        "patch_cmdb_sources": list(sources or []),
        "patch_excluded_hosts": sorted(excluded, key=lambda e: (e["host"], e["exception"])),
        "patch_exceptions_due_for_review": sorted(due, key=lambda e: (e["expires"], e["id"])),
        "patch_exceptions_expired": expired_list,
        "patch_exception_review_days": review_days,
    }
    return model


def _warn_unmatched(model, entry, exc_index, matched_patterns, any_match):
    where = "%s line %s" % (entry.path, entry.line)
    if not any_match:
        model["warnings"].append("exception %s (%s) matches no CMDB host" % (entry.id, where))
        return
    # An exact name or address that matches nothing is most likely a typo, and a typo in the
    # register leaves the real device unprotected: say so even when other patterns matched.
    missing = [pattern for pat_index, (pattern, (kind, _value)) in enumerate(zip(entry.hosts, entry.kinds))
               if kind in (KIND_NAME, KIND_ADDRESS) and (exc_index, pat_index) not in matched_patterns]
    if missing:
        model["warnings"].append("exception %s (%s): %s match%s no CMDB host" % (
            entry.id, where, ", ".join(missing), "es" if len(missing) == 1 else ""))
