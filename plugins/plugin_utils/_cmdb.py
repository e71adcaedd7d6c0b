# Private to the healthit.patching collection: not a public API, may change without notice.
"""CMDB exports (CSV, YAML, JSON) read into validated host records.

Spreadsheet exports are real input: a UTF-8 byte order mark, CRLF line ends, stray spaces around
values and upper-case values are accepted. Anything that cannot be trusted (a missing required
field, an unknown platform or wave, a duplicate host name, a malformed address) raises
SourceError naming the file, the line or record and the field. No Ansible imports.
"""
from __future__ import annotations

import csv
import datetime
import io
import ipaddress
import json
import os
import re

from ._source_data import LineDict, SourceError, load_yaml, read_text

# platform -> the family groups it belongs to (a Hyper-V host is a Windows host and a hypervisor)
PLATFORM_FAMILIES = {
    "windows_server": ("windows",),
    "windows_workstation": ("windows",),
    "hyperv_hypervisor": ("windows", "hypervisors"),
    "linux": (),  # the platform group `linux` is also the family group
    "kvm_hypervisor": ("linux", "hypervisors"),
    "esxi_hypervisor": ("hypervisors",),
    "ios": ("network",),
    "iosxe": ("network",),
    "nxos": ("network",),
    "eos": ("network",),
    "junos": ("network",),
    # Server firmware managed through the server's BMC (Redfish): no OS is reached, the platform group
    # is the family group.
    "redfish": (),
}
PLATFORMS = tuple(sorted(PLATFORM_FAMILIES))
WAVES = ("test", "production")
CRITICALITIES = ("clinical_critical", "business", "low")

REQUIRED = ("hostname", "platform", "owner", "wave")
# CMDB column -> the name the rest of the record uses
STANDARD = {
    "hostname": "hostname",
    "address": "address",
    "platform": "platform",
    "owner": "owner",
    "wave": "wave",
    "site": "site",
    "maintenance_window": "window",
    "criticality": "criticality",
    "ha_group": "ha_group",
}
EXTRA_PREFIX = "cmdb_"

_HOSTNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_COLUMN_JUNK = re.compile(r"[^a-z0-9_]+")


class CmdbHost:
    """One CMDB row, validated. `where` says where it came from, for later messages."""

    __slots__ = ("hostname", "address", "ip", "platform", "owner", "wave", "site", "window",
                 "criticality", "ha_group", "extra", "where", "path", "line", "row")

    def __init__(self, **kwargs):
        for name in self.__slots__:
            setattr(self, name, kwargs.get(name))

    def __repr__(self):
        return "CmdbHost(%s from %s)" % (self.hostname, self.where)


def plain(value):
    """Extra YAML/JSON values as plain JSON types (dates as ISO text), so they cache and print alike."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def column_name(raw):
    """A header as typed in a spreadsheet ('Maintenance Window ') -> maintenance_window."""
    name = _COLUMN_JUNK.sub("_", str(raw).strip().lower()).strip("_")
    return name


def _text(value, path, line, row, field):
    if value is None:
        return ""
    if isinstance(value, bool):
        raise SourceError(path, "expected text, got a boolean (%s)" % value, line=line, row=row, field=field)
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    raise SourceError(path, "expected text, got a %s" % type(value).__name__, line=line, row=row, field=field)


def _choice(value, allowed, path, line, row, field, required):
    value = value.lower()
    if not value:
        if required:
            raise SourceError(path, "is required (one of %s)" % ", ".join(allowed), line=line, row=row, field=field)
        return None
    if value not in allowed:
        raise SourceError(path, "'%s' is not one of %s" % (value, ", ".join(allowed)),
                          line=line, row=row, field=field)
    return value


def make_host(fields, extra, path, line=None, row=None, field_lines=None):
    """Validate one record. `fields` holds the standard columns as text, `extra` the others."""
    field_lines = field_lines or {}

    def at(name):
        return field_lines.get(name, line)

    hostname = fields.get("hostname", "")
    if not hostname:
        raise SourceError(path, "is required", line=at("hostname"), row=row, field="hostname")
    if not _HOSTNAME.match(hostname):
        raise SourceError(path, "'%s' is not a usable host name (letters, digits, '.', '-', '_')" % hostname,
                          line=at("hostname"), row=row, field="hostname")
    owner = fields.get("owner", "")
    if not owner:
        raise SourceError(path, "is required: the accountable team", line=at("owner"), row=row, field="owner")
    platform = _choice(fields.get("platform", ""), PLATFORMS, path, at("platform"), row, "platform", True)
    wave = _choice(fields.get("wave", ""), WAVES, path, at("wave"), row, "wave", True)
    criticality = _choice(fields.get("criticality", ""), CRITICALITIES, path, at("criticality"), row,
                          "criticality", False)
    address = fields.get("address", "") or None
    ip = None
    if address:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            if not _HOSTNAME.match(address) or address.replace(".", "").isdigit():
                raise SourceError(path, "'%s' is neither an IP address nor a DNS name" % address,
                                  line=at("address"), row=row, field="address") from None
    where = "%s %s" % (os.path.basename(path), ("line %s" % line) if line is not None else ("record %s" % row))
    return CmdbHost(
        hostname=hostname, address=address, ip=ip, platform=platform, owner=owner, wave=wave,
        site=fields.get("site") or None, window=fields.get("window") or None, criticality=criticality,
        ha_group=fields.get("ha_group") or None, extra=extra, where=where, path=path, line=line, row=row,
    )


_TEMPLATE_MARKUP = re.compile(r"\{\{|\{%|\{#")


def refuse_template_markup(value, path, line, row, field):
    """Refuse CMDB values that Jinja would execute.

    The plugin marks what it reads as unsafe, but that marking is lost once the inventory leaves the
    plugin (an AWX inventory import stores plain JSON, which ansible-core then templates), so a CMDB
    field holding '{{ ... }}' would run on the controller. No real CMDB value needs that markup.
    """
    if isinstance(value, str):
        if _TEMPLATE_MARKUP.search(value):
            raise SourceError(path, "contains template markup ('{{', '{%%' or '{#'), refused: inventory values "
                              "are templated once they leave this plugin (for example after an AWX import)",
                              line=line, row=row, field=field)
    elif isinstance(value, dict):
        for k, v in value.items():
            refuse_template_markup(k, path, line, row, field)
            refuse_template_markup(v, path, line, row, field)
    elif isinstance(value, (list, tuple)):
        for v in value:
            refuse_template_markup(v, path, line, row, field)


def _split_record(record, path, line, row, key_lines=None):
    """Map a record's keys to standard fields and cmdb_ extras."""
    fields = {}
    extra = {}
    field_lines = {}
    seen = {}
    for raw_key, value in record.items():
        key = column_name(raw_key)
        key_line = key_lines.get(raw_key, line) if key_lines else line
        if not key:
            raise SourceError(path, "a key with no usable name (%r)" % (raw_key,), line=key_line, row=row)
        if key in seen:
            raise SourceError(path, "'%s' and '%s' are the same field" % (seen[key], raw_key),
                              line=key_line, row=row, field=key)
        seen[key] = raw_key
        refuse_template_markup(value, path, key_line, row, key)
        if key in STANDARD:
            name = STANDARD[key]
            fields[name] = _text(value, path, key_line, row, key)
            field_lines[name] = key_line
            field_lines[key] = key_line
        else:
            extra[EXTRA_PREFIX + key] = plain(value)
    # field_lines is keyed by both the column and the internal name, so errors can use either
    return fields, extra, field_lines


def read_csv(path, text=None):
    if text is None:
        text = read_text(path)
    reader = csv.reader(io.StringIO(text))
    header = None
    columns = None
    hosts = []
    previous_line = 0
    try:
        for row in reader:
            line = previous_line + 1
            previous_line = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue  # blank lines and the empty rows spreadsheets append
            if header is None:
                header = [column_name(cell) for cell in row]
                for index, name in enumerate(header):
                    if not name:
                        raise SourceError(path, "header column %d has no name" % (index + 1), line=line)
                    if header.index(name) != index:
                        raise SourceError(path, "header names column '%s' twice" % name, line=line, field=name)
                for name in REQUIRED:
                    if name not in header:
                        raise SourceError(path, "header lacks the required column", line=line, field=name)
                columns = [(index, name, STANDARD.get(name)) for index, name in enumerate(header)]
                continue
            if len(row) > len(header):
                extra_cells = [c for c in row[len(header):] if c.strip()]
                if extra_cells:
                    raise SourceError(path, "has %d values for %d header columns" % (len(row), len(header)),
                                      line=line)
            fields = {}
            extra = {}
            for index, name, standard in columns:
                cell = row[index].strip() if index < len(row) else ""
                if standard:
                    fields[standard] = cell
                else:
                    extra[EXTRA_PREFIX + name] = cell or None
            hosts.append(make_host(fields, extra, path, line=line))
    except csv.Error as exc:
        raise SourceError(path, "is not valid CSV: %s" % exc, line=reader.line_num) from exc
    if header is None:
        raise SourceError(path, "is empty: no header row")
    return hosts


def _records(data, path):
    if isinstance(data, dict) and "hosts" in data:
        data = data["hosts"]
    if not isinstance(data, list):
        raise SourceError(path, "expected a list of hosts (or a mapping with a 'hosts' list)",
                          line=getattr(data, "line", None))
    return data


def read_yaml(path, text=None):
    data = load_yaml(path, text)
    hosts = []
    records = _records(data, path)
    for index, record in enumerate(records):
        line = records.line_of(index) if hasattr(records, "line_of") else None
        if not isinstance(record, dict):
            raise SourceError(path, "each host must be a mapping of field: value", line=line)
        key_lines = record.key_lines if isinstance(record, LineDict) else None
        fields, extra, field_lines = _split_record(record, path, line, None, key_lines)
        hosts.append(make_host(fields, extra, path, line=line, field_lines=field_lines))
    return hosts


def read_json(path, text=None):
    if text is None:
        text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(path, "is not valid JSON: %s" % exc.msg, line=exc.lineno) from exc
    hosts = []
    for index, record in enumerate(_records(data, path)):
        if not isinstance(record, dict):
            raise SourceError(path, "each host must be an object of field: value", row=index + 1)
        fields, extra, field_lines = _split_record(record, path, None, index + 1)
        hosts.append(make_host(fields, extra, path, row=index + 1, field_lines=field_lines))
    return hosts


READERS = {".csv": read_csv, ".yml": read_yaml, ".yaml": read_yaml, ".json": read_json}


def read_source(path, text=None):
    ext = os.path.splitext(path)[1].lower()
    reader = READERS.get(ext)
    if reader is None:
        raise SourceError(path, "unknown CMDB export type '%s' (use .csv, .yml, .yaml or .json)" % ext)
    return reader(path, text)


def read_sources(paths, texts=None):
    """All hosts from all exports, in order; a host name seen twice (in any case) is an error."""
    texts = texts or {}
    hosts = []
    seen = {}
    for path in paths:
        for host in read_source(path, texts.get(path)):
            key = host.hostname.lower()
            if key in seen:
                raise SourceError(path, "duplicate host name '%s' (first seen in %s)" % (host.hostname, seen[key]),
                                  line=host.line, row=host.row, field="hostname")
            seen[key] = host.where
            hosts.append(host)
    return hosts
