# Private to the healthit.patching collection: not a public API, may change without notice.
"""The exception register: hosts that must not be patched, read fail-closed and matched fast.

Every entry needs id, hosts, owner, approved_by, approved_on and expires; a bad date, CIDR or
pattern is an error naming file, line and field, because a register we cannot read completely
could leave a protected device in the patch list.

Matching does not grow with hosts x exceptions: exact names and addresses are dictionary keys,
CIDRs become a sorted table of elementary address intervals searched with bisect, and glob
patterns are indexed by their literal prefix (or suffix), so a host only tries the few globs
that could match it. No Ansible imports.
"""
from __future__ import annotations

import bisect
import fnmatch
import hashlib
import ipaddress
import re

from ._source_data import LineDict, LineList, SourceError, load_yaml, parse_date, read_text

KNOWN_KEYS = ("id", "hosts", "application", "reason", "owner", "approved_by", "approved_on", "expires",
              "compensating_controls", "ticket", "change_request", "notes")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_GLOB_CHARS = re.compile(r"[*?\[]")

KIND_NAME = "name"
KIND_ADDRESS = "address"
KIND_CIDR = "cidr"
KIND_GLOB = "glob"


class RegisterRecord:
    """One record of a register file (this one, or the vendor approval register that reads like it)."""

    __slots__ = ()

    def __init__(self, **kwargs):
        for name in self.__slots__:
            setattr(self, name, kwargs.get(name))

    def where(self):
        return "%s line %s" % (self.path, self.line)


class ExceptionEntry(RegisterRecord):
    """One approved exception."""

    __slots__ = ("id", "hosts", "kinds", "application", "reason", "owner", "approved_by", "approved_on",
                 "expires", "compensating_controls", "line", "path")

    def is_active(self, today):
        """Active while today is on or before the expiry date."""
        return today <= self.expires


class Register:
    __slots__ = ("path", "sha256", "exceptions", "warnings")

    def __init__(self, path, sha256, exceptions, warnings=None):
        self.path = path
        self.sha256 = sha256
        self.exceptions = exceptions
        self.warnings = warnings or []


def classify_pattern(pattern):
    """(kind, normalised value) of one `hosts` item, or ValueError with the reason."""
    if _GLOB_CHARS.search(pattern):
        try:
            re.compile(fnmatch.translate(pattern))
        except re.error as exc:  # pragma: no cover - fnmatch escapes almost everything
            raise ValueError("'%s' is not a valid glob pattern (%s)" % (pattern, exc)) from exc
        if "[" in pattern and "]" not in pattern:
            raise ValueError("'%s' is not a valid glob pattern (unclosed '[')" % pattern)
        return KIND_GLOB, pattern.lower()
    if "/" in pattern:
        try:
            return KIND_CIDR, ipaddress.ip_network(pattern, strict=True)
        except ValueError as exc:
            raise ValueError("'%s' is not a valid CIDR (%s)" % (pattern, exc)) from exc
    try:
        return KIND_ADDRESS, ipaddress.ip_address(pattern)
    except ValueError:
        pass
    if pattern.replace(".", "").isdigit():
        raise ValueError("'%s' is not a valid IP address" % pattern)
    if not _NAME.match(pattern):
        raise ValueError("'%s' is not a host name, address, CIDR or glob pattern" % pattern)
    return KIND_NAME, pattern.lower()


def _text_field(entry, key, path, required=True):
    value = entry.get(key)
    line = entry.line_of(key) if isinstance(entry, LineDict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SourceError(path, "is required", line=line if key in entry else entry_line(entry), field=key)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SourceError(path, "expected text, got %r" % (value,), line=line, field=key)
    return str(value).strip()


def entry_line(entry):
    return getattr(entry, "line", None)


def _entry(entry, index, path):
    if not isinstance(entry, dict):
        raise SourceError(path, "exception %d is not a mapping of field: value" % (index + 1),
                          line=getattr(entry, "line", None))
    exc_id = _text_field(entry, "id", path)
    owner = _text_field(entry, "owner", path)
    approved_by = _text_field(entry, "approved_by", path)

    def line_of(key):
        return entry.line_of(key) if isinstance(entry, LineDict) and key in entry else entry_line(entry)

    approved_on = parse_date(entry.get("approved_on"), path, line_of("approved_on"), "approved_on")
    expires = parse_date(entry.get("expires"), path, line_of("expires"), "expires")
    if approved_on > expires:
        raise SourceError(path, "%s: approved_on %s is after expires %s" % (exc_id, approved_on, expires),
                          line=line_of("approved_on"), field="approved_on")

    hosts = entry.get("hosts")
    if not isinstance(hosts, list) or not hosts:
        raise SourceError(path, "%s: hosts is required: a non-empty list of names, globs, addresses or CIDRs"
                          % exc_id, line=line_of("hosts"), field="hosts")
    patterns = []
    kinds = []
    for item_index, item in enumerate(hosts):
        item_line = hosts.line_of(item_index) if isinstance(hosts, LineList) else line_of("hosts")
        if not isinstance(item, str) or not item.strip():
            raise SourceError(path, "%s: hosts item %d must be a non-empty string, got %r"
                              % (exc_id, item_index + 1, item), line=item_line, field="hosts")
        try:
            kinds.append(classify_pattern(item.strip()))
        except ValueError as err:
            raise SourceError(path, "%s: %s" % (exc_id, err), line=item_line, field="hosts") from None
        patterns.append(item.strip())

    controls = entry.get("compensating_controls")
    if controls is None:
        controls = []
    elif isinstance(controls, str):
        controls = [controls.strip()]
    elif isinstance(controls, list) and all(isinstance(c, str) for c in controls):
        controls = [c.strip() for c in controls]
    else:
        raise SourceError(path, "%s: expected a list of text" % exc_id, line=line_of("compensating_controls"),
                          field="compensating_controls")

    return ExceptionEntry(
        id=exc_id, hosts=patterns, kinds=kinds, owner=owner, approved_by=approved_by,
        approved_on=approved_on, expires=expires, compensating_controls=controls,
        application=_text_field(entry, "application", path, required=False),
        reason=_text_field(entry, "reason", path, required=False),
        line=entry_line(entry), path=path,
    )


def read_register(path, key, noun, parse):
    """The SHA-256 of a register file and its records as (raw entry, parsed record) pairs, in file order.

    A register is a mapping whose ``key`` lists one mapping per record; ``parse(raw, index, path)`` turns an
    entry into a record with ``id`` and ``line`` or raises SourceError. Ids are unique. Any doubt raises
    SourceError naming file, line and field: a register read in part must not decide anything.
    """
    text = read_text(path)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    data = load_yaml(path, text)
    if not isinstance(data, dict):
        raise SourceError(path, "the register must be a mapping with an '%s' list" % key,
                          line=getattr(data, "line", 1))
    if key not in data:
        raise SourceError(path, "the register has no '%s' key" % key, line=data.line, field=key)
    entries = data[key]
    if not isinstance(entries, list):
        raise SourceError(path, "must be a list (write [] for an empty register)", line=data.line_of(key), field=key)
    records = []
    seen = {}
    for index, raw in enumerate(entries):
        record = parse(raw, index, path)
        if record.id in seen:
            raise SourceError(path, "duplicate %s id '%s' (first at line %s)" % (noun, record.id, seen[record.id]),
                              line=record.line, field="id")
        seen[record.id] = record.line
        records.append((raw, record))
    return digest, records


def load_register(path):
    """Read and validate the whole register; any doubt raises SourceError."""
    digest, records = read_register(path, "exceptions", "exception", _entry)
    warnings = []
    for raw, entry in records:
        unknown = sorted(str(k) for k in raw if k not in KNOWN_KEYS)
        if unknown:
            # a misspelt optional key (compensating_control) would silently drop what it holds
            warnings.append("exception %s (%s line %s): unknown field%s %s ignored" % (
                entry.id, path, entry.line, "" if len(unknown) == 1 else "s", ", ".join(unknown)))
    return Register(path, digest, [entry for dummy, entry in records], warnings)


def _glob_keys(pattern):
    """Literal prefix and suffix of a (lower-case) glob, the parts any match must start/end with."""
    first = _GLOB_CHARS.search(pattern).start()
    last = max(pattern.rfind(c) for c in "*?]")
    return pattern[:first], pattern[last + 1:]


class ExceptionIndex:
    """Which (exception index, pattern index) pairs match a host, without scanning all exceptions."""

    def __init__(self, exceptions):
        self.names = {}          # lower-case name or address text -> [(exc, pat)]
        self.by_prefix = {}      # literal glob prefix -> [(regex, exc, pat)]
        self.by_suffix = {}      # literal glob suffix (when there is no prefix) -> [...]
        self.anywhere = []       # globs with neither, e.g. "*"
        self.prefix_lengths = set()
        self.suffix_lengths = set()
        intervals = {4: [], 6: []}
        for exc_index, entry in enumerate(exceptions):
            for pat_index, (kind, value) in enumerate(entry.kinds):
                ref = (exc_index, pat_index)
                if kind == KIND_NAME:
                    self.names.setdefault(value, []).append(ref)
                elif kind == KIND_ADDRESS:
                    intervals[value.version].append((int(value), int(value), ref))
                elif kind == KIND_CIDR:
                    intervals[value.version].append(
                        (int(value.network_address), int(value.broadcast_address), ref))
                else:
                    regex = re.compile(fnmatch.translate(value))
                    prefix, suffix = _glob_keys(value)
                    if prefix:
                        self.by_prefix.setdefault(prefix, []).append((regex, exc_index, pat_index))
                        self.prefix_lengths.add(len(prefix))
                    elif suffix:
                        self.by_suffix.setdefault(suffix, []).append((regex, exc_index, pat_index))
                        self.suffix_lengths.add(len(suffix))
                    else:
                        self.anywhere.append((regex, exc_index, pat_index))
        self.prefix_lengths = sorted(self.prefix_lengths)
        self.suffix_lengths = sorted(self.suffix_lengths)
        self.tables = {version: self._segments(items) for version, items in intervals.items()}

    @staticmethod
    def _segments(items):
        """Cut possibly overlapping [start, end] ranges into disjoint segments, each with its refs."""
        events = []
        for start, end, ref in items:
            events.append((start, 1, ref))
            events.append((end + 1, -1, ref))
        events.sort(key=lambda e: (e[0], e[1]))
        starts, refs = [], []
        active = {}
        for position, delta, ref in events:
            if delta > 0:
                active[ref] = active.get(ref, 0) + 1
            else:
                active[ref] -= 1
                if not active[ref]:
                    del active[ref]
            snapshot = tuple(active)
            if starts and starts[-1] == position:
                refs[-1] = snapshot
            else:
                starts.append(position)
                refs.append(snapshot)
        return starts, refs

    def candidates(self, text):
        """The globs that could match `text`: those filed under one of its prefixes or suffixes."""
        for length in self.prefix_lengths:
            if length > len(text):
                break
            yield from self.by_prefix.get(text[:length], ())
        for length in self.suffix_lengths:
            if length > len(text):
                break
            yield from self.by_suffix.get(text[-length:], ())
        yield from self.anywhere

    def _globs(self, text, found):
        for regex, exc_index, pat_index in self.candidates(text):
            if regex.match(text):
                found.add((exc_index, pat_index))

    def match(self, hostname, address=None, ip=None):
        """Set of (exception index, pattern index) matching this host's name, address or IP."""
        found = set()
        name = hostname.lower()
        found.update(self.names.get(name, ()))
        self._globs(name, found)
        if ip is None and not address:
            try:
                ip = ipaddress.ip_address(hostname)
            except ValueError:
                ip = None
        if address and ip is None:
            # a DNS name in the address column can be named in the register like a host
            text = address.lower()
            found.update(self.names.get(text, ()))
            self._globs(text, found)
        if ip is not None:
            if address:
                # an address also matches globs written over addresses, e.g. 10.20.30.*
                self._globs(str(ip), found)
            starts, refs = self.tables[ip.version]
            position = bisect.bisect_right(starts, int(ip)) - 1
            if position >= 0:
                found.update(refs[position])
        return found
