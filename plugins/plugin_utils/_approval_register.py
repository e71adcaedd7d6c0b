# Private to the healthit.patching collection: not a public API, may change without notice.
"""The vendor approval register: which clinical application versions a vendor has approved, for which hosts.

An application update is installed only when an active record covers the product, the exact version
and the host (by name, address, CIDR or glob, or one of its groups). The register is read fail-closed
like the exception register: every record needs id, vendor, product, version, package_sha256,
vendor_reference, approved_by, approved_on, expires, downtime_minutes and hosts or groups; anything
malformed, unknown or duplicated is an error naming file, line and field, because a register we cannot
read completely must not decide that a vendor approved something. No Ansible imports.
"""
from __future__ import annotations

import datetime
import ipaddress
import re

from ansible_collections.healthit.patching.plugins.module_utils._versions import VersionError, compare, sort_key
from ansible_collections.healthit.patching.plugins.plugin_utils._exception_register import (
    ExceptionIndex, RegisterRecord, classify_pattern, read_register)
from ansible_collections.healthit.patching.plugins.plugin_utils._source_data import (
    LineDict, LineList, SourceError, parse_date)

REQUIRED_TEXT = ("id", "vendor", "product", "version", "vendor_reference", "approved_by")
KNOWN_KEYS = REQUIRED_TEXT + ("package_sha256", "approved_on", "expires", "downtime_minutes", "hosts", "groups",
                              "change_request", "notes")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GROUP = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Approval(RegisterRecord):
    """One vendor approval record."""

    __slots__ = ("id", "vendor", "product", "version", "package_sha256", "vendor_reference", "approved_by",
                 "approved_on", "expires", "downtime_minutes", "hosts", "kinds", "groups", "change_request",
                 "line", "path")

    def as_dict(self):
        """The record as evidence may show it (no notes: free text could hold anything)."""
        return {
            "id": self.id, "vendor": self.vendor, "product": self.product, "version": self.version,
            "package_sha256": self.package_sha256, "vendor_reference": self.vendor_reference,
            "approved_by": self.approved_by, "approved_on": self.approved_on.isoformat(),
            "expires": self.expires.isoformat(), "downtime_minutes": self.downtime_minutes,
            "hosts": list(self.hosts), "groups": list(self.groups), "change_request": self.change_request,
            "source": self.where(),
        }


class ApprovalRegister:
    __slots__ = ("path", "sha256", "approvals", "index")

    def __init__(self, path, sha256, approvals):
        self.path = path
        self.sha256 = sha256
        self.approvals = approvals
        # the exception register's index answers "which records name this host" without a full scan
        self.index = ExceptionIndex(approvals)


def _line_of(entry, key):
    if isinstance(entry, LineDict):
        return entry.line_of(key) if key in entry else entry.line
    return getattr(entry, "line", None)


def _text(entry, key, path, record):
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SourceError(path, "%sis required" % record, line=_line_of(entry, key), field=key)
    if isinstance(value, float):
        # YAML reads 1.10 as the number 1.1: a version must never be guessed
        raise SourceError(path, "%s%r is a number, not text: quote it" % (record, value),
                          line=_line_of(entry, key), field=key)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SourceError(path, "%sexpected text, got %r" % (record, value), line=_line_of(entry, key), field=key)
    return str(value).strip()


def _names(entry, key, path, record):
    value = entry.get(key)
    if value is None:
        return [], []
    if not isinstance(value, list):
        raise SourceError(path, "%sexpected a list" % record, line=_line_of(entry, key), field=key)
    items, kinds = [], []
    for position, item in enumerate(value):
        line = value.line_of(position) if isinstance(value, LineList) else _line_of(entry, key)
        if not isinstance(item, str) or not item.strip():
            raise SourceError(path, "%sitem %d must be a non-empty string, got %r" % (record, position + 1, item),
                              line=line, field=key)
        item = item.strip()
        if key == "hosts":
            try:
                kinds.append(classify_pattern(item))
            except ValueError as err:
                raise SourceError(path, "%s%s" % (record, err), line=line, field=key) from None
        elif not _GROUP.match(item):
            raise SourceError(path, "%s'%s' is not an inventory group name" % (record, item), line=line, field=key)
        items.append(item)
    return items, kinds


def _record(entry, index, path):
    if not isinstance(entry, dict):
        raise SourceError(path, "approval %d is not a mapping of field: value" % (index + 1),
                          line=getattr(entry, "line", None))
    rec_id = _text(entry, "id", path, "")
    record = "%s: " % rec_id
    unknown = sorted(str(k) for k in entry if k not in KNOWN_KEYS)
    if unknown:
        # a misspelt field (host: instead of hosts:) must not quietly widen or narrow an approval
        raise SourceError(path, "%sunknown field (known: %s)" % (record, ", ".join(KNOWN_KEYS)),
                          line=_line_of(entry, unknown[0]), field=unknown[0])
    values = {key: _text(entry, key, path, record) for key in REQUIRED_TEXT}
    try:
        compare(values["version"], values["version"], "debian")
    except VersionError as err:
        raise SourceError(path, "%s%s" % (record, err), line=_line_of(entry, "version"), field="version") from None
    if isinstance(entry.get("package_sha256"), int) and not isinstance(entry.get("package_sha256"), bool):
        # an all-digit checksum is read as a number and loses its leading zeros
        raise SourceError(path, "%sthe checksum was read as a number, not text: quote it" % record,
                          line=_line_of(entry, "package_sha256"), field="package_sha256")
    checksum = _text(entry, "package_sha256", path, record).lower()
    if not _SHA256.match(checksum):
        raise SourceError(path, "%s'%s' is not a SHA-256 (64 hexadecimal digits)" % (record, checksum),
                          line=_line_of(entry, "package_sha256"), field="package_sha256")
    approved_on = parse_date(entry.get("approved_on"), path, _line_of(entry, "approved_on"), "approved_on")
    expires = parse_date(entry.get("expires"), path, _line_of(entry, "expires"), "expires")
    if approved_on > expires:
        raise SourceError(path, "%sapproved_on %s is after expires %s" % (record, approved_on, expires),
                          line=_line_of(entry, "approved_on"), field="approved_on")
    downtime = entry.get("downtime_minutes")
    if isinstance(downtime, bool) or not isinstance(downtime, int) or downtime < 0:
        raise SourceError(path, "%sis required: whole minutes of downtime the vendor requires (0 for none), got %r"
                          % (record, downtime), line=_line_of(entry, "downtime_minutes"), field="downtime_minutes")
    hosts, kinds = _names(entry, "hosts", path, record)
    groups, _kinds = _names(entry, "groups", path, record)
    if not hosts and not groups:
        raise SourceError(path, "%shosts or groups is required: an approval applies to named hosts or groups" % record,
                          line=_line_of(entry, "hosts"), field="hosts")
    change_request = entry.get("change_request")
    return Approval(id=rec_id, vendor=values["vendor"], product=values["product"], version=values["version"],
                    package_sha256=checksum, vendor_reference=values["vendor_reference"],
                    approved_by=values["approved_by"], approved_on=approved_on, expires=expires,
                    downtime_minutes=downtime, hosts=hosts, kinds=kinds, groups=groups,
                    change_request=None if change_request is None else str(change_request),
                    line=getattr(entry, "line", None), path=path)


def load_register(path):
    """Read and validate the whole register; any doubt raises SourceError."""
    digest, records = read_register(path, "approvals", "approval", _record)
    return ApprovalRegister(path, digest, [approval for dummy, approval in records])


def _ids(records):
    return ", ".join(r.id for r in records)


def decide(register, product, version, hostname, groups=(), today=None, address=None, downtime_budget=None):
    """Whether `version` of `product` may be installed on this host today, and why (a dict for evidence).

    Refusals name the nearest record and what it lacks. Several active records that agree are fine;
    records that disagree about the package checksum are a refusal, because we cannot tell which the
    vendor meant.
    """
    if today is None:
        today = datetime.datetime.now(datetime.timezone.utc).date()
    version = str(version).strip()
    # covered: some record of this product names the host, its address or one of its groups (whatever the
    # version, dates or downtime), i.e. the register speaks about this host for this product
    result = {"approved": False, "covered": False, "product": product, "version": version, "host": hostname,
              "register": register.path, "register_sha256": register.sha256, "approval": None}

    def refuse(reason):
        result["reason"] = reason
        return result

    for_product = [a for a in register.approvals if a.product == product]
    if not for_product:
        return refuse("no approval record for %s in %s" % (product, register.path))
    try:
        ip = ipaddress.ip_address(address) if address else None
    except ValueError:
        ip = None
    named = {register.approvals[i].id for i, _p in register.index.match(hostname, address or None, ip)}
    host_groups = set(groups or ())
    covering = [a for a in for_product if a.id in named or host_groups.intersection(a.groups)]
    if not covering:
        return refuse("the approvals for %s (%s) cover neither host %s nor its groups"
                      % (product, _ids(for_product), hostname))
    result["covered"] = True
    # exact text: dpkg calls 1.1 and 1.1-0 equal, but the vendor approved one named package version
    for_version = [a for a in covering if a.version == version]
    if not for_version:
        approved = sorted({a.version for a in covering}, key=lambda v: sort_key(v, "debian"))
        return refuse("%s %s is not approved for %s: approved version%s %s (%s)"
                      % (product, version, hostname, "" if len(approved) == 1 else "s", ", ".join(approved),
                         _ids(covering)))
    active = [a for a in for_version if a.approved_on <= today <= a.expires]
    if not active:
        expired = [a for a in for_version if a.expires < today]
        if expired:
            last = max(expired, key=lambda a: a.expires)
            return refuse("approval %s for %s %s expired on %s" % (last.id, product, version, last.expires))
        first = min(for_version, key=lambda a: a.approved_on)
        return refuse("approval %s for %s %s only takes effect on %s" % (first.id, product, version, first.approved_on))
    checksums = sorted({a.package_sha256 for a in active})
    if len(checksums) > 1:
        return refuse("active approvals for %s %s disagree about the package checksum (%s)"
                      % (product, version, _ids(active)))
    # the record that stays valid longest, then the one asking for the least downtime
    chosen = sorted(active, key=lambda a: (a.expires, -a.downtime_minutes, a.id))[-1]
    if downtime_budget is not None and chosen.downtime_minutes > downtime_budget:
        return refuse("approval %s requires %d minutes of downtime; this run allows %d"
                      % (chosen.id, chosen.downtime_minutes, downtime_budget))
    result["approved"] = True
    result["approval"] = chosen.as_dict()
    result["reason"] = ("approved by %s (vendor reference %s, approved on %s by %s, expires %s)"
                        % (chosen.id, chosen.vendor_reference, chosen.approved_on, chosen.approved_by, chosen.expires))
    return result


def decide_from_file(path, product, version, hostname, **kwargs):
    """decide() on a register read from `path`; an unreadable or invalid register refuses with its error."""
    try:
        register = load_register(path)
    except SourceError as err:
        return {"approved": False, "covered": False, "valid": False, "product": product, "version": str(version), "host": hostname,
                "register": path, "register_sha256": None, "approval": None,
                "reason": "approval register invalid: %s" % err}
    result = decide(register, product, version, hostname, **kwargs)
    result["valid"] = True
    return result
