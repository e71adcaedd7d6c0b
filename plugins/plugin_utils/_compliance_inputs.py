# Private to the healthit.patching collection: not a public API, may change without notice.
"""Controller-side inputs of the compliance report: inventory scope, exception register, history.

Each input is read by the code that owns its format: the register by ``_exception_register``
(fail closed), the emergency response history by ``_response_history``. This module only adapts
them to the plain data ``module_utils/_compliance.py`` computes from. No Ansible imports.
"""
from __future__ import annotations

import os

from ansible_collections.healthit.patching.plugins.module_utils import _evidence
from ansible_collections.healthit.patching.plugins.module_utils import _response_history
from ansible_collections.healthit.patching.plugins.module_utils import _versions
from ansible_collections.healthit.patching.plugins.plugin_utils import _cmdb
from ansible_collections.healthit.patching.plugins.plugin_utils import _exception_register
from ansible_collections.healthit.patching.plugins.plugin_utils._source_data import SourceError

INVENTORY_MARKER = 'healthit.patching.patch_inventory'
HOST_FIELDS = (('site', 'patch_site'), ('owner', 'patch_owner'), ('platform', 'patch_platform'),
               ('wave', 'patch_wave'), ('criticality', 'patch_criticality'))


class InputError(ValueError):
    """An input the report cannot trust; the message names it."""


class Scope(object):
    def __init__(self, hosts, excepted, register_path=None, register_sha256=None, review_days=30,
                 generated=None):
        self.hosts = hosts
        self.excepted = excepted
        self.register_path = register_path
        self.register_sha256 = register_sha256
        self.review_days = review_days
        self.generated = generated
        self.warnings = []


def _plain(value):
    """Ansible's tagged strings and lazy containers as plain Python values."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    if hasattr(value, 'items'):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)


def _all_vars(task_vars):
    """The vars the inventory plugin set on group all, seen from the task or from any host."""
    if task_vars.get('patch_inventory_source'):
        return task_vars
    hostvars = task_vars.get('hostvars') or {}
    for name in (task_vars.get('groups') or {}).get('all', []):
        hv = hostvars[name]
        if hv.get('patch_inventory_source'):
            return hv
        break
    return {}


def inventory_scope(task_vars, hosts=None, excepted=None):
    """Hosts in scope and hosts under an active exception, as the inventory plugin decided."""
    all_vars = _all_vars(task_vars)
    if hosts is not None:
        return Scope([_host_entry(h) for h in hosts], [_plain(e) for e in (excepted or [])],
                     _plain(all_vars.get('patch_exception_register_path')),
                     _plain(all_vars.get('patch_exception_register_sha256')),
                     int(all_vars.get('patch_exception_review_days') or 30),
                     _plain(all_vars.get('patch_inventory_generated')))
    if all_vars.get('patch_inventory_source') != INVENTORY_MARKER:
        raise InputError('the inventory did not come from the healthit.patching.patch_inventory plugin '
                         '(patch_inventory_source is not set on group all): without it the report cannot tell '
                         'hosts in scope from hosts under an exception')
    hostvars = task_vars.get('hostvars') or {}
    out = []
    for name in (task_vars.get('groups') or {}).get('all', []):
        hv = hostvars[name]
        entry = {'name': str(name)}
        for field, var in HOST_FIELDS:
            entry[field] = _plain(hv.get(var))
        expired = _plain(hv.get('patch_exception_expired'))
        if expired:
            entry['exception_expired'] = True
            entry['exception_id'] = expired.get('id') if isinstance(expired, dict) else str(expired)
        out.append(entry)
    excluded = []
    for item in _plain(all_vars.get('patch_excluded_hosts') or []):
        excluded.append({'name': item.get('host'), 'exception_id': item.get('exception') or item.get('id'),
                         'owner': item.get('owner'), 'expires': item.get('expires'),
                         'compensating_controls': item.get('compensating_controls') or []})
    warnings = _enrich_excepted(excluded, _plain(all_vars.get('patch_cmdb_sources')) or [])
    scope = Scope(out, excluded, _plain(all_vars.get('patch_exception_register_path')),
                  _plain(all_vars.get('patch_exception_register_sha256')),
                  int(all_vars.get('patch_exception_review_days') or 30),
                  _plain(all_vars.get('patch_inventory_generated')))
    scope.warnings = warnings
    return scope


def _enrich_excepted(excluded, sources):
    """Site and platform of excepted hosts (the inventory leaves them out) from the same CMDB exports."""
    paths = [src.get('path') if isinstance(src, dict) else src for src in sources]
    if not excluded or not paths or not all(isinstance(p, str) and p for p in paths):
        return []
    try:
        rows = _cmdb.read_sources(paths)
    except (SourceError, OSError) as exc:
        return ['excepted hosts are shown without site and platform: the CMDB could not be read again (%s)'
                % (exc.render() if hasattr(exc, 'render') else exc)]
    by_name = dict((h.hostname.lower(), h) for h in rows)
    for item in excluded:
        row = by_name.get(str(item.get('name') or '').lower())
        if row is not None:
            item['site'] = row.site
            item['platform'] = row.platform
    return []


def _host_entry(host):
    host = _plain(host)
    if not isinstance(host, dict) or not host.get('name'):
        raise InputError('hosts: every item needs a name (got %r)' % (host,))
    return host


def read_register(path, expected_sha256=None):
    """The exception register through its own parser; a register that changed since the inventory read it
    is refused, because the exclusions and the report would then disagree."""
    if not path:
        raise InputError('no exception register: set exception_register (or use the patch_inventory plugin, '
                         'which names it in patch_exception_register_path)')
    register = _exception_register.load_register(path)
    if expected_sha256 and register.sha256 != expected_sha256:
        raise InputError('exception register %s changed since the inventory was built (sha256 %s, inventory saw %s):'
                         ' run the report again' % (path, register.sha256, expected_sha256))
    return register


def register_entries(register):
    out = []
    for e in register.exceptions if register else []:
        out.append({'id': e.id, 'hosts': list(e.hosts), 'owner': e.owner, 'approved_by': e.approved_by,
                    'approved_on': e.approved_on, 'expires': e.expires, 'application': e.application,
                    'reason': e.reason, 'compensating_controls': list(e.compensating_controls or [])})
    return out


def version_compare(a, b, scheme):
    return _versions.compare(a, b, scheme)


class History(object):
    def __init__(self, entries, source=None, sha256=None):
        self.entries = entries
        self.source = source
        self.sha256 = sha256


def read_history(state_dir, now):
    """The emergency response history: one row per CVE and host (latest episode), read by its own store.

    A history line that cannot be read is an error naming file and line (HistoryError).
    """
    if not state_dir:
        return History([], None, None)
    store = _response_history.HistoryStore(state_dir)
    rows = store.report(now)
    digests = {}
    for cve in store.cves():
        path = store.path(cve)
        digests[os.path.basename(path)] = _evidence.file_sha256(path)
    return History(rows, store.directory, digests or None)
