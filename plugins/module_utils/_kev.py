# Private to the healthit.patching collection: not a public API, may change without notice.
"""CISA KEV catalog: load, validate, last-known-good, diff; exposure join; SLA clock.

Pure functions over bytes and dicts so they are unit-tested without Ansible. The modules
kev_catalog and kev_exposure only read options, fetch, and call these.
"""

import datetime
import hashlib
import json
import os
import re
import tempfile
import traceback

try:
    import jsonschema
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError:  # the modules turn this into missing_required_lib: no silent fallback
    jsonschema = None
    JSONSCHEMA_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.healthit.patching.plugins.module_utils import _versions

# CISA's published schema for the catalog (cisagov/kev-data, CC0), as shipped beside the
# snapshot in tests/data/kev/. Embedded because a module cannot read files of the collection.
KEV_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "title": "CISA Catalog of Known Exploited Vulnerabilities",
    "properties": {
        "catalogVersion": {"type": "string"},
        "dateReleased": {"type": "string", "format": "date-time"},
        "count": {"type": "integer"},
        "vulnerabilities": {"type": "array", "items": {"$ref": "#/$defs/vulnerability"}},
    },
    "required": ["catalogVersion", "dateReleased", "count", "vulnerabilities"],
    "$defs": {
        "vulnerability": {
            "type": "object",
            "properties": {
                "cveID": {"type": "string", "pattern": "^CVE-[0-9]{4}-[0-9]{4,19}$"},
                "vendorProject": {"type": "string"},
                "product": {"type": "string"},
                "vulnerabilityName": {"type": "string"},
                "dateAdded": {"type": "string", "format": "date"},
                "shortDescription": {"type": "string"},
                "requiredAction": {"type": "string"},
                "dueDate": {"type": "string", "format": "date"},
                "knownRansomwareCampaignUse": {"type": "string"},
                "notes": {"type": "string"},
                "cwes": {"type": "array", "items": {"type": "string", "pattern": "^CWE-([0-9])+$"}},
            },
            "required": ["cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded",
                         "shortDescription", "requiredAction", "dueDate"],
        }
    },
}

# The fields of an entry worth carrying into exposure results and evidence.
ENTRY_SUMMARY_FIELDS = ('cveID', 'vendorProject', 'product', 'vulnerabilityName', 'dateAdded',
                        'dueDate', 'knownRansomwareCampaignUse')

DEFAULT_POLICY_HOURS = {'clinical_critical': 24, 'business': 48, 'low': 72}
DEFAULT_HOURS = 72

MAX_REPORTED_SCHEMA_ERRORS = 5


class KevError(Exception):
    """Bad input, with where it is: source (file or URL), line, column and field."""

    def __init__(self, message, source=None, line=None, column=None, field=None):
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.field = field
        where = []
        if source:
            where.append(str(source))
        if line:
            where.append('line %d' % line + (', column %d' % column if column else ''))
        if field:
            where.append('field %s' % field)
        super(KevError, self).__init__('%s: %s' % (': '.join(where), message) if where else message)

    def as_dict(self):
        return {'message': str(self), 'source': self.source, 'line': self.line,
                'column': self.column, 'field': self.field}


# ---------------------------------------------------------------- time

_DATE_RE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})$')
_DATETIME_RE = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$')


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def parse_date(text):
    m = _DATE_RE.match(text or '') if isinstance(text, str) else None
    if not m:
        raise ValueError('%r is not a YYYY-MM-DD date' % (text,))
    return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def parse_datetime(value):
    """Parse an ISO 8601 time; a time without zone is refused (the clock must be unambiguous)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError('time %r has no time zone' % (value,))
        return value.astimezone(datetime.timezone.utc)
    m = _DATETIME_RE.match(value or '') if isinstance(value, str) else None
    if not m:
        raise ValueError('%r is not an ISO 8601 date-time' % (value,))
    if not m.group(8):
        raise ValueError('time %r has no time zone' % (value,))
    frac = (m.group(7) or '0')[:6].ljust(6, '0')
    zone = m.group(8)
    if zone == 'Z':
        tz = datetime.timezone.utc
    else:
        sign = 1 if zone[0] == '+' else -1
        digits = zone[1:].replace(':', '')
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    dt = datetime.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                           int(m.group(5)), int(m.group(6) or 0), int(frac), tzinfo=tz)
    return dt.astimezone(datetime.timezone.utc)


def isoformat(dt):
    """UTC ISO 8601 with a Z, second precision (what history and evidence store)."""
    return dt.astimezone(datetime.timezone.utc).replace(microsecond=0).strftime('%Y-%m-%dT%H:%M:%SZ')


def due_date_deadline(due_date):
    """The last second of the KEV dueDate, in UTC: the catalog gives a day, never a time."""
    day = parse_date(due_date)
    return datetime.datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=datetime.timezone.utc)


# ---------------------------------------------------------------- locating a JSON path in text

_WS = re.compile(r'[ \t\n\r]*')
_SCALAR = re.compile(r'-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null')


def _ws(s, i):
    return _WS.match(s, i).end()


def _skip(s, i):
    """Index just after the JSON value starting at i."""
    i = _ws(s, i)
    c = s[i]
    if c == '"':
        return json.decoder.scanstring(s, i + 1)[1]
    if c in '{[':
        close = '}' if c == '{' else ']'
        i = _ws(s, i + 1)
        if s[i] == close:
            return i + 1
        while True:
            if c == '{':
                i = json.decoder.scanstring(s, _ws(s, i) + 1)[1]
                i = _ws(s, i) + 1  # the colon
            i = _ws(s, _skip(s, i))
            if s[i] == close:
                return i + 1
            i += 1  # the comma
    m = _SCALAR.match(s, i)
    return m.end()


def locate(text, path):
    """(line, column) of the value at ``path`` (keys and indexes) in JSON ``text``, or None.

    Used only to word error messages, so it is simple rather than fast.
    """
    try:
        i = _ws(text, 0)
        for step in path:
            c = text[i]
            if c == '{' and isinstance(step, str):
                i = _ws(text, i + 1)
                while text[i] != '}':
                    key, i = json.decoder.scanstring(text, _ws(text, i) + 1)
                    i = _ws(text, _ws(text, i) + 1)
                    if key == step:
                        break
                    i = _ws(text, _skip(text, i))
                    if text[i] == ',':
                        i += 1
                else:
                    return None
            elif c == '[' and isinstance(step, int):
                i = _ws(text, i + 1)
                for _dummy in range(step):
                    i = _ws(text, _skip(text, i))
                    if text[i] != ',':
                        return None
                    i = _ws(text, i + 1)
            else:
                return None
        line = text.count('\n', 0, i) + 1
        return line, i - text.rfind('\n', 0, i)
    except (IndexError, ValueError, AttributeError):
        return None


def _field_name(path):
    out = ''
    for step in path:
        out += '[%d]' % step if isinstance(step, int) else ('.' if out else '') + str(step)
    return out or '(top level)'


# ---------------------------------------------------------------- catalog load and validation

def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def require_jsonschema():
    if jsonschema is None:
        raise KevError('the Python library jsonschema is required on the host that runs this '
                       'module (the controller, for modules run on localhost): pip install jsonschema')


def parse_json_text(data, source):
    """Decode bytes to JSON with errors that name the line; a truncated document says so."""
    if isinstance(data, bytes):
        try:
            text = data.decode('utf-8-sig')
        except UnicodeDecodeError as e:
            prefix = data[:e.start]
            raise KevError('not UTF-8 text (byte %d)' % e.start, source,
                           line=prefix.count(b'\n') + 1)
    else:
        text = data
    if not text.strip():
        raise KevError('empty document (0 bytes of JSON)', source)
    try:
        return json.loads(text), text
    except ValueError as e:
        line = getattr(e, 'lineno', None)
        col = getattr(e, 'colno', None)
        pos = getattr(e, 'pos', None)
        msg = getattr(e, 'msg', str(e))
        # An unterminated string in Python's decoder means the input ended inside it.
        if (pos is not None and text[pos:].strip() == '') or msg.startswith('Unterminated string'):
            msg = 'invalid JSON, the document ends early (truncated download?): %s' % msg
        else:
            msg = 'invalid JSON: %s' % msg
        raise KevError(msg, source, line=line, column=col)


def validate_catalog(catalog, text, source, schema=None):
    """Schema, count, dates and unique CVE IDs. Returns notes worth reporting (not errors)."""
    require_jsonschema()
    schema = schema or KEV_SCHEMA
    if not isinstance(catalog, dict):
        raise KevError('the catalog must be a JSON object, got %s' % type(catalog).__name__, source, line=1)
    validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator = validator_cls(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(catalog), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        path = list(first.absolute_path)
        field = _field_name(path)
        if first.validator == 'required':
            missing = re.findall(r"'([^']+)' is a required property", first.message)
            if missing:
                field = _field_name(path + [missing[0]])
        where = locate(text, path) if text is not None else None
        more = ''
        if len(errors) > 1:
            others = ['%s: %s' % (_field_name(list(e.absolute_path)), e.message)
                      for e in errors[1:MAX_REPORTED_SCHEMA_ERRORS]]
            more = ' (and %d more schema errors: %s)' % (len(errors) - 1, '; '.join(others))
        raise KevError('does not match the KEV schema: %s%s' % (first.message, more), source,
                       line=where[0] if where else None, column=where[1] if where else None,
                       field=field)

    entries = catalog['vulnerabilities']

    def _where(path):
        loc = locate(text, path) if text is not None else None
        return {'line': loc[0] if loc else None, 'column': loc[1] if loc else None}

    if catalog['count'] != len(entries):
        raise KevError('count is %d but the catalog holds %d vulnerabilities (truncated or edited '
                       'file?)' % (catalog['count'], len(entries)), source, field='count',
                       **_where(['count']))
    try:
        parse_datetime(catalog['dateReleased'])
    except ValueError as e:
        raise KevError(str(e), source, field='dateReleased', **_where(['dateReleased']))
    seen = {}
    due_before_added = []
    for idx, entry in enumerate(entries):
        for fname in ('dateAdded', 'dueDate'):
            try:
                parse_date(entry[fname])
            except ValueError as e:
                raise KevError(str(e), source, field='vulnerabilities[%d].%s' % (idx, fname),
                               **_where(['vulnerabilities', idx, fname]))
        cve = entry['cveID']
        if cve in seen:
            raise KevError('%s appears twice (entries %d and %d): the join would be ambiguous'
                           % (cve, seen[cve], idx), source, field='vulnerabilities[%d].cveID' % idx,
                           **_where(['vulnerabilities', idx, 'cveID']))
        seen[cve] = idx
        if entry['dueDate'] < entry['dateAdded']:
            due_before_added.append(cve)
    return {'due_before_added': due_before_added}


def parse_catalog(data, source, schema=None):
    """Bytes (or text) of a catalog -> {'catalog': dict, 'meta': {...}}; KevError when unusable."""
    raw = data if isinstance(data, bytes) else data.encode('utf-8')
    catalog, text = parse_json_text(raw, source)
    notes = validate_catalog(catalog, text, source, schema)
    meta = {
        'source': source,
        'catalog_version': catalog['catalogVersion'],
        'date_released': catalog['dateReleased'],
        'count': catalog['count'],
        'sha256': sha256_hex(raw),
        'size': len(raw),
        'due_before_added': notes['due_before_added'],
    }
    return {'catalog': catalog, 'meta': meta}


def read_file_bytes(path, what='file'):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except (IOError, OSError) as e:
        raise KevError('cannot read %s: %s' % (what, e.strerror or e), path)


def write_atomic(path, data, mode=0o640):
    """Write bytes so a reader never sees half a file (temp file in the same directory, rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o750)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def diff_catalogs(previous, current):
    """What changed between two parsed catalogs: new, removed, due date changed (shortened flagged)."""
    before = {e['cveID']: e for e in previous['vulnerabilities']}
    after = {e['cveID']: e for e in current['vulnerabilities']}
    new = sorted(c for c in after if c not in before)
    removed = sorted(c for c in before if c not in after)
    due_changed = []
    ransomware_changed = []
    for cve in sorted(set(before) & set(after)):
        old, cur = before[cve], after[cve]
        if old['dueDate'] != cur['dueDate']:
            due_changed.append({'cveID': cve, 'previous': old['dueDate'], 'current': cur['dueDate'],
                                'shortened': cur['dueDate'] < old['dueDate']})
        if old.get('knownRansomwareCampaignUse') != cur.get('knownRansomwareCampaignUse'):
            ransomware_changed.append({'cveID': cve, 'previous': old.get('knownRansomwareCampaignUse'),
                                       'current': cur.get('knownRansomwareCampaignUse')})
    return {
        'previous_version': previous.get('catalogVersion'),
        'current_version': current.get('catalogVersion'),
        'new': new,
        'removed': removed,
        'due_date_changed': due_changed,
        'due_date_shortened': [d['cveID'] for d in due_changed if d['shortened']],
        'ransomware_use_changed': ransomware_changed,
    }


def load_catalog(data, source, lkg_path=None, use_last_known_good=False, previous=None,
                 schema=None, fetch_error=None, write=True):
    """Validate a fetched catalog; keep or fall back to the last-known-good copy; diff.

    ``data`` is the fetched bytes (None when fetching failed with ``fetch_error``);
    ``previous`` optional bytes of the catalog to diff against (default: the LKG copy as it was
    before this run). Returns a result dict; raises KevError when nothing usable is left.
    """
    lkg_bytes = None
    lkg = None
    lkg_problem = None
    if lkg_path and os.path.exists(lkg_path):
        lkg_bytes = read_file_bytes(lkg_path, 'last-known-good catalog')
        try:
            lkg = parse_catalog(lkg_bytes, lkg_path, schema)
        except KevError as e:
            # Never trust the copy on disk blindly: a damaged LKG is reported, not used.
            lkg_problem = str(e)

    try:
        if data is None:
            raise KevError(fetch_error or 'no catalog data', source)
        loaded = parse_catalog(data, source, schema)
    except KevError as e:
        if not use_last_known_good:
            raise
        if lkg is None:
            why = ('its copy is damaged: %s' % lkg_problem) if lkg_problem else (
                'no copy exists at %s' % lkg_path if lkg_path else 'no lkg_path is configured')
            raise KevError('%s; the last-known-good catalog cannot be used: %s' % (e, why))
        return {
            'changed': False,
            'used_last_known_good': True,
            'last_known_good_reason': str(e),
            'error': e.as_dict(),
            'catalog': lkg['catalog'],
            'meta': dict(lkg['meta'], source=lkg_path),
            'lkg_updated': False,
            'lkg_problem': None,
            'diff': None,
        }

    raw = data if isinstance(data, bytes) else data.encode('utf-8')
    baseline = None
    if previous is not None:
        baseline = parse_catalog(previous[1], previous[0], schema)
    elif lkg is not None:
        baseline = lkg
    diff = diff_catalogs(baseline['catalog'], loaded['catalog']) if baseline else None
    if diff is not None:
        diff['previous_sha256'] = baseline['meta']['sha256']
    lkg_updated = bool(lkg_path) and (lkg_bytes != raw)
    if lkg_updated and write:
        write_atomic(lkg_path, raw)
    return {
        'changed': lkg_updated,
        'used_last_known_good': False,
        'last_known_good_reason': None,
        'error': None,
        'catalog': loaded['catalog'],
        'meta': loaded['meta'],
        'lkg_updated': lkg_updated,
        'lkg_problem': lkg_problem,
        'diff': diff,
    }


def catalog_result(loaded, cve_ids=None, entries='new', lkg_path=None, src=None, check_mode=False):
    """The kev_catalog module's return values from a load_catalog() result."""
    catalog = loaded['catalog']
    meta = loaded['meta']
    by_id = dict((e['cveID'], e) for e in catalog['vulnerabilities'])
    wanted = []
    if entries == 'all':
        wanted = [e['cveID'] for e in catalog['vulnerabilities']]
    elif entries == 'new' and loaded['diff']:
        wanted = list(loaded['diff']['new'])
    for cve in cve_ids or []:
        if cve in by_id and cve not in wanted:
            wanted.append(cve)
    if loaded['used_last_known_good']:
        catalog_path = lkg_path
    elif lkg_path and not (check_mode and loaded['lkg_updated']):
        catalog_path = lkg_path  # now holds exactly these bytes
    else:
        catalog_path = src  # None when only a URL was read: pass RV(entries) on instead
    return {
        'changed': loaded['changed'],
        'catalog_version': meta['catalog_version'],
        'date_released': meta['date_released'],
        'count': meta['count'],
        'sha256': meta['sha256'],
        'source': meta['source'],
        'catalog_path': catalog_path,
        'used_last_known_good': loaded['used_last_known_good'],
        'last_known_good_reason': loaded['last_known_good_reason'],
        'error': loaded['error'],
        'lkg_updated': loaded['lkg_updated'],
        'lkg_problem': loaded['lkg_problem'],
        'due_before_added': meta['due_before_added'],
        'changes': loaded['diff'],
        'entries': [by_id[c] for c in wanted],
        'missing_cve_ids': [c for c in cve_ids or [] if c not in by_id],
    }


def catalog_diff_view(loaded, lkg_path):
    """before/after text for Ansible's --diff."""
    meta = loaded['meta']
    diff = loaded['diff'] or {}
    before = ''
    if diff:
        before = 'catalogVersion %s\nsha256 %s\n' % (diff.get('previous_version'), diff.get('previous_sha256'))
    after = 'catalogVersion %s\nsha256 %s\n' % (meta['catalog_version'], meta['sha256'])
    for key in ('new', 'removed', 'due_date_shortened'):
        if diff.get(key):
            after += '%s: %s\n' % (key, ', '.join(diff[key]))
    return {'before_header': lkg_path or '(no previous catalog)', 'after_header': meta['source'],
            'before': before, 'after': after}


def summarize_entry(entry):
    return dict((k, entry.get(k)) for k in ENTRY_SUMMARY_FIELDS)


def catalog_entries(catalog, source='catalog'):
    """Entries of a catalog given as a full catalog dict or as a list of entries (validated)."""
    require_jsonschema()
    if isinstance(catalog, dict):
        validate_catalog(catalog, None, source)
        return catalog['vulnerabilities']
    if isinstance(catalog, list):
        sub = dict(KEV_SCHEMA['$defs']['vulnerability'])
        validator = jsonschema.Draft7Validator(sub, format_checker=jsonschema.FormatChecker())
        for idx, entry in enumerate(catalog):
            err = next(iter(validator.iter_errors(entry)), None)
            if err is not None:
                raise KevError('not a KEV entry: %s' % err.message, source,
                               field='[%d]%s' % (idx, ''.join('.%s' % p for p in err.absolute_path)))
        return catalog
    raise KevError('expected a KEV catalog object or a list of entries, got %s' % type(catalog).__name__,
                   source)


# ---------------------------------------------------------------- SLA clock

def sla_clock(entry, identified, criticality, policy_hours=None, default_hours=DEFAULT_HOURS):
    """Deadline = min(end of the entry's own dueDate in UTC, identified + policy hours).

    The KEV dueDate is used as published, also when it precedes dateAdded (15 old entries do):
    the deadline is then already past at identification, and that is reported, not repaired.
    """
    policy = DEFAULT_POLICY_HOURS if policy_hours is None else policy_hours
    if criticality in (None, ''):
        hours = default_hours
        criticality = None
    elif criticality in policy:
        hours = policy[criticality]
    else:
        raise KevError('criticality %r has no policy hours (known: %s)'
                       % (criticality, ', '.join(sorted(policy))), field='criticality')
    identified_at = parse_datetime(identified)
    kev_deadline = due_date_deadline(entry['dueDate'])
    policy_deadline = identified_at + datetime.timedelta(hours=hours)
    if kev_deadline <= policy_deadline:
        deadline, source = kev_deadline, 'kev_due_date'
    else:
        deadline, source = policy_deadline, 'policy'
    return {
        'criticality': criticality,
        'policy_hours': hours,
        'identified': isoformat(identified_at),
        'kev_due_date': entry['dueDate'],
        'kev_date_added': entry['dateAdded'],
        'kev_deadline': isoformat(kev_deadline),
        'policy_deadline': isoformat(policy_deadline),
        'deadline': isoformat(deadline),
        'deadline_source': source,
        'due_before_added': entry['dueDate'] < entry['dateAdded'],
        'past_due_at_identification': kev_deadline < identified_at,
    }


def sla_status(deadline, now, verified=None):
    """open | overdue while not verified; met | missed once verified."""
    deadline_at = parse_datetime(deadline)
    if verified:
        return 'met' if parse_datetime(verified) <= deadline_at else 'missed'
    return 'open' if parse_datetime(now) <= deadline_at else 'overdue'


# ---------------------------------------------------------------- advisories

def _load_source(value, name):
    """An advisory option is a path to a JSON file or the data itself. (data, source name)"""
    if value is None:
        return None, name
    if isinstance(value, str):
        raw = read_file_bytes(value, name)
        data, _text = parse_json_text(raw, value)
        return data, value
    return value, name


def _expect(cond, message, source, field):
    if not cond:
        raise KevError(message, source, field=field)


def _load_debian_tracker_one(value, name='debian_tracker', only=None):
    data, source = _load_source(value, name)
    if data is None:
        return None
    _expect(isinstance(data, dict), 'expected source package -> CVE -> record', source, '(top level)')
    index = {}
    for src, cves in data.items():
        _expect(isinstance(cves, dict), 'expected CVE -> record', source, src)
        for cve, record in cves.items():
            if only is not None and cve not in only:
                continue
            if not isinstance(record, dict):
                continue  # the real tracker has a few non-CVE keys of other shapes; they map nothing
            releases = record.get('releases', {})
            _expect(isinstance(releases, dict), 'expected release -> status', source,
                    '%s.%s.releases' % (src, cve))
            for rel, info in releases.items():
                field = '%s.%s.releases.%s' % (src, cve, rel)
                _expect(isinstance(info, dict) and 'status' in info, 'missing status', source, field)
                fixed = info.get('fixed_version')
                if info['status'] == 'resolved' and fixed not in (None, '0'):
                    try:
                        _versions.parse_debian(fixed)
                    except _versions.VersionError as e:
                        raise KevError(str(e), source, field=field + '.fixed_version')
            index.setdefault(cve, {})[src] = record
    return {'source': source, 'by_cve': index}


def _load_rpm_advisories_one(value, name='rpm_advisories', only=None):
    data, source = _load_source(value, name)
    if data is None:
        return None
    _expect(isinstance(data, dict), 'expected CVE -> list of fixed packages', source, '(top level)')
    data = _only(data, only)
    for cve, fixes in data.items():
        _expect(isinstance(fixes, list), 'expected a list of {package, fixed_version, release}', source, cve)
        for i, fix in enumerate(fixes):
            field = '%s[%d]' % (cve, i)
            _expect(isinstance(fix, dict), 'expected a mapping', source, field)
            for key in ('package', 'fixed_version', 'release'):
                _expect(isinstance(fix.get(key), str) and fix.get(key), 'missing or empty', source,
                        '%s.%s' % (field, key))
            try:
                _versions.parse_rpm(fix['fixed_version'])
            except _versions.VersionError as e:
                raise KevError(str(e), source, field=field + '.fixed_version')
    return {'source': source, 'by_cve': data}


def _load_msrc_advisories_one(value, name='msrc_advisories', only=None):
    data, source = _load_source(value, name)
    if data is None:
        return None
    _expect(isinstance(data, dict) and isinstance(data.get('cves'), dict),
            "expected {'cves': {CVE: {product: [KB]}}, 'supersedes': {KB: [older KBs]}}", source, 'cves')
    cves = _only(data['cves'], only)
    for cve, products in cves.items():
        _expect(isinstance(products, dict), 'expected product -> list of KBs', source, 'cves.%s' % cve)
        for product, kbs in products.items():
            _expect(isinstance(kbs, list) and all(isinstance(k, str) for k in kbs),
                    'expected a list of KB numbers', source, 'cves.%s.%s' % (cve, product))
    supersedes = data.get('supersedes') or {}
    _expect(isinstance(supersedes, dict), 'expected KB -> list of KBs it supersedes', source, 'supersedes')
    superseded_by = {}
    for newer, olders in supersedes.items():
        _expect(isinstance(olders, list), 'expected a list of KBs', source, 'supersedes.%s' % newer)
        for older in olders:
            superseded_by.setdefault(_kb(older), set()).add(_kb(newer))
    return {'source': source, 'by_cve': cves, 'superseded_by': superseded_by}


def _load_firmware_advisories_one(value, name='firmware_advisories', only=None):
    data, source = _load_source(value, name)
    if data is None:
        return None
    _expect(isinstance(data, dict), 'expected CVE -> platform -> [{train, first_fixed}]', source, '(top level)')
    data = _only(data, only)
    for cve, platforms in data.items():
        _expect(isinstance(platforms, dict), 'expected platform -> list of trains', source, cve)
        for platform, trains in platforms.items():
            scheme = _versions.normalize_scheme(platform)
            _expect(isinstance(trains, list), 'expected a list of {train, first_fixed}', source,
                    '%s.%s' % (cve, platform))
            for i, item in enumerate(trains):
                field = '%s.%s[%d]' % (cve, platform, i)
                _expect(isinstance(item, dict) and isinstance(item.get('train'), str), 'missing train',
                        source, field + '.train')
                fixed = item.get('first_fixed')
                if fixed is not None:
                    try:
                        _versions.sort_key(fixed, scheme)
                        fixed_train = _versions.train(fixed, scheme)
                    except ValueError as e:
                        raise KevError(str(e), source, field=field + '.first_fixed')
                    _expect(fixed_train == item['train'], 'first fixed %s is in train %s, not %s'
                            % (fixed, fixed_train, item['train']), source, field + '.first_fixed')
    return {'source': source, 'by_cve': data}


def _only(by_cve, only):
    """Keep the CVEs asked about: a full tracker is large, validating all of it is wasted work."""
    if only is None:
        return by_cve
    return dict((cve, value) for cve, value in by_cve.items() if cve in only)


def _merge_sources(loader, value, name, merge, only):
    if isinstance(value, list):
        loaded = [loader(v, '%s[%d]' % (name, i), only) for i, v in enumerate(value)]
        loaded = [x for x in loaded if x is not None]
        if not loaded:
            return None
        out = loaded[0]
        for more in loaded[1:]:
            merge(out, more)
        out['source'] = ', '.join(str(x['source']) for x in loaded)
        return out
    return loader(value, name, only)


def _merge_nested(out, more):
    for cve, by_key in more['by_cve'].items():
        out['by_cve'].setdefault(cve, {}).update(by_key)


def _merge_lists(out, more):
    for cve, items in more['by_cve'].items():
        out['by_cve'].setdefault(cve, []).extend(items)


def _merge_msrc(out, more):
    _merge_nested(out, more)
    for kb, newer in more['superseded_by'].items():
        out['superseded_by'].setdefault(kb, set()).update(newer)


def load_debian_tracker(value, name='debian_tracker', only=None):
    """Tracker JSON (path or data, or a list of them merged) indexed by CVE -> source -> record."""
    return _merge_sources(_load_debian_tracker_one, value, name, _merge_nested, None if only is None else set(only))


def load_rpm_advisories(value, name='rpm_advisories', only=None):
    return _merge_sources(_load_rpm_advisories_one, value, name, _merge_lists, None if only is None else set(only))


def load_msrc_advisories(value, name='msrc_advisories', only=None):
    return _merge_sources(_load_msrc_advisories_one, value, name, _merge_msrc, None if only is None else set(only))


def load_firmware_advisories(value, name='firmware_advisories', only=None):
    return _merge_sources(_load_firmware_advisories_one, value, name, _merge_nested, None if only is None else set(only))


def _kb(value):
    text = str(value).strip().upper()
    return text if text.startswith('KB') else 'KB' + text


# ---------------------------------------------------------------- host facts

_FAMILY_ALIASES = {
    'debian': 'debian', 'ubuntu': 'debian',
    'redhat': 'rpm', 'rhel': 'rpm', 'rpm': 'rpm', 'centos': 'rpm', 'rocky': 'rpm',
    'almalinux': 'rpm', 'fedora': 'rpm', 'oraclelinux': 'rpm',
    'windows': 'windows', 'windows_server': 'windows', 'windows_workstation': 'windows',
    'ios': 'ios', 'cisco.ios.ios': 'ios', 'iosxe': 'iosxe', 'ios-xe': 'iosxe',
    'nxos': 'nxos', 'cisco.nxos.nxos': 'nxos', 'junos': 'junos', 'junipernetworks.junos.junos': 'junos',
    'bmc': 'bmc', 'redfish': 'bmc',
}
FIRMWARE_SCHEMES = ('ios', 'iosxe', 'nxos', 'junos', 'bmc')
_PACKAGE_MANAGERS = ('apt', 'dpkg', 'rpm', 'dnf', 'yum', 'zypper')


def _parse_query_lines(text, host, key, family):
    """Packages from ``dpkg-query``/``rpm -qa`` output (see kev_exposure's documentation)."""
    out = {}
    for lineno, line in enumerate(str(text).splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split('\t') if '\t' in line else line.split()
        if len(cols) < 2:
            raise KevError('expected at least name and version', 'hosts', line=lineno,
                           field='%s.%s' % (host, key))
        name = cols[0].split(':')[0] if family == 'debian' else cols[0]
        entry = {'version': cols[1]}
        if family == 'debian' and len(cols) >= 3 and cols[2]:
            entry['source'] = cols[2]
        if family == 'debian' and len(cols) >= 4 and cols[3]:
            entry['source_version'] = cols[3]
        if family == 'rpm':
            entry['version'] = cols[1][2:] if cols[1].startswith('0:') else cols[1]
        out[name] = entry
    return out


def normalize_host_facts(host, raw):
    """One shape out of what a play has: explicit keys, ``ansible_*`` vars, ``ansible_facts``,
    inventory ``patch_*`` vars, network ``ansible_net_*`` facts, query output. Explicit wins."""
    if not isinstance(raw, dict):
        raise KevError('facts must be a mapping', 'hosts', field=host)
    nested = raw.get('ansible_facts') if isinstance(raw.get('ansible_facts'), dict) else {}

    def pick(*names):
        for name in names:
            for source in (raw, nested):
                value = source.get(name)
                if value not in (None, '', [], {}):
                    return value
        return None

    facts = dict(raw)
    facts['family'] = pick('family')
    facts['os_family'] = pick('os_family', 'ansible_os_family')
    facts['distribution'] = pick('distribution', 'ansible_distribution')
    facts['platform'] = pick('platform', 'patch_platform')
    facts['criticality'] = pick('criticality', 'patch_criticality')
    facts['release'] = pick('release', 'distribution_release', 'ansible_distribution_release')
    facts['packages'] = pick('packages', 'ansible_packages')
    if str(facts['os_family'] or '').lower() == 'redhat' and not str(facts['release'] or '').startswith('el'):
        # RPM advisories name releases el8/el9; Ansible gives a codename and a major version.
        major = pick('distribution_major_version', 'ansible_distribution_major_version')
        facts['release'] = 'el%s' % major if major else None
    for key, family in (('dpkg_query', 'debian'), ('rpm_query', 'rpm')):
        text = pick(key)
        if text:
            parsed = _parse_query_lines(text, host, key, family)
            merged = dict(facts['packages'] or {})
            merged.update(parsed)  # the query carries source packages: it wins
            facts['packages'] = merged
    firmware = pick('firmware')
    if not firmware:
        net_os, net_version = pick('network_os', 'ansible_network_os'), pick('net_version', 'ansible_net_version')
        if net_os or net_version:
            firmware = {'platform': net_os, 'version': net_version}
    facts['firmware'] = firmware
    return facts


def host_family(host, facts):
    """debian | rpm | windows | ios | iosxe | nxos | junos | bmc, or None when the facts do not say."""
    firmware = facts.get('firmware') or {}
    for candidate in (facts.get('family'), firmware.get('platform'), facts.get('os_family'),
                      facts.get('distribution'), facts.get('platform')):
        if isinstance(candidate, str):
            fam = _FAMILY_ALIASES.get(candidate.strip().lower())
            if fam == 'ios' and firmware.get('version'):
                # cisco.ios serves IOS-XE too: the running version tells which numbering it is.
                version = firmware['version']
                if not _versions.is_valid(version, 'ios') and _versions.is_valid(version, 'iosxe'):
                    fam = 'iosxe'
            if fam:
                return fam
    return None


def _package_versions(host, facts, family):
    """name -> {'versions': [..], 'source': source package} from the accepted fact shapes."""
    packages = facts.get('packages') or {}
    if not isinstance(packages, dict):
        raise KevError('packages must map each name to a version string, to a mapping with '
                       'version and source, or to a package_facts list', 'hosts', field='%s.packages' % host)
    out = {}
    source_versions = {}
    for name, value in packages.items():
        versions = []
        source = name
        if isinstance(value, str):
            versions = [value]
        elif isinstance(value, dict):
            versions = [_package_fact_version(value, family)]
            if isinstance(value.get('source'), str) and value['source'] not in _PACKAGE_MANAGERS:
                source = value['source']
            source = value.get('source_package') or source
            if value.get('source_version'):
                source_versions[name] = str(value['source_version'])
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    versions.append(_package_fact_version(item, family))
                    source = item.get('source_package') or source
        else:
            raise KevError('unexpected value for package %s' % name, 'hosts',
                           field='%s.packages.%s' % (host, name))
        versions = [v for v in versions if v]
        if versions:
            out[name] = {'versions': versions, 'source': source, 'source_version': source_versions.get(name)}
    return out


def _package_fact_version(item, family):
    version = item.get('version')
    if version is None:
        return None
    version = str(version)
    if family == 'rpm' and item.get('release') and not version.endswith('-' + str(item['release'])):
        version = '%s-%s' % (version, item['release'])
        if item.get('epoch') not in (None, '', 0, '0') and ':' not in version:
            version = '%s:%s' % (item['epoch'], version)
    return version


def _newest(versions, scheme):
    return sorted(versions, key=lambda v: _versions.sort_key(v, scheme))[-1]


# ---------------------------------------------------------------- per-family matching

def _result(exposed, reason, fix=None, unknown=False, installed=None):
    return {'exposed': exposed, 'unknown': unknown, 'reason': reason, 'fix': fix, 'installed': installed}


def _shown(binary, version, source_version):
    if source_version != version:
        return '%s %s (source version %s)' % (binary, version, source_version)
    return '%s %s' % (binary, version)


def match_debian(cve, host, facts, tracker):
    release = facts.get('release')
    if tracker is None:
        return _result(False, 'no advisory source for platform debian (no Debian tracker data given)',
                       unknown=True)
    if not release:
        return _result(False, 'host facts give no release codename, so tracker data cannot apply',
                       unknown=True)
    records = tracker['by_cve'].get(cve)
    if not records:
        return _result(False, 'no advisory maps %s to a Debian source package (%s)'
                       % (cve, tracker['source']))
    packages = _package_versions(host, facts, 'debian')
    exposed, unknown, reasons, fix_packages, installed = [], [], [], {}, {}
    for src in sorted(records):
        binaries = sorted(n for n, p in packages.items() if p['source'] == src)
        if not binaries:
            reasons.append('no installed package built from source %s' % src)
            continue
        info = (records[src].get('releases') or {}).get(release)
        if info is None:
            unknown.append(src)
            reasons.append('tracker has no %s record for source %s (installed: %s)'
                           % (release, src, ', '.join(binaries)))
            continue
        status = info.get('status')
        fixed = info.get('fixed_version')
        compared = {}
        for b in binaries:
            installed[b] = _newest(packages[b]['versions'], 'debian')
            # The tracker's fixed_version is a source version: compare the source version of the
            # installed binary when the facts carry it (binNMUs add +bN to binary versions only).
            compared[b] = packages[b].get('source_version') or installed[b]
        if status == 'open':
            exposed.append(src)
            reasons.append('source %s is open in %s: no fixed version published yet (installed %s)'
                           % (src, release, ', '.join('%s %s' % (b, installed[b]) for b in binaries)))
        elif status == 'resolved' and fixed == '0':
            reasons.append('source %s was never affected in %s (fixed_version 0)' % (src, release))
        elif status == 'resolved' and fixed:
            older = []
            for b in binaries:
                try:
                    if _versions.compare(compared[b], fixed, 'debian') < 0:
                        older.append(b)
                except _versions.VersionError as e:
                    unknown.append(src)
                    reasons.append('cannot order installed %s: %s' % (b, e))
            if older:
                exposed.append(src)
                for b in older:
                    fix_packages[b] = fixed
                reasons.append('%s older than %s fixed in %s (Debian tracker, source %s)'
                               % (', '.join(_shown(b, installed[b], compared[b]) for b in older),
                                  fixed, release, src))
            elif src not in unknown:
                reasons.append('%s at or above %s fixed in %s (source %s)'
                               % (', '.join(_shown(b, installed[b], compared[b]) for b in binaries),
                                  fixed, release, src))
        else:
            unknown.append(src)
            reasons.append('tracker status %r for source %s in %s leaves exposure undetermined'
                           % (status, src, release))
    fix = {'type': 'package', 'packages': fix_packages, 'release': release} if fix_packages else None
    return _result(bool(exposed), '; '.join(reasons), fix=fix, unknown=bool(unknown) and not exposed,
                   installed=installed or None)


def match_rpm(cve, host, facts, advisories):
    release = facts.get('release')
    if advisories is None:
        return _result(False, 'no advisory source for platform rpm (no RPM advisory data given)', unknown=True)
    if not release:
        return _result(False, 'host facts give no release (e.g. el9), so advisory data cannot apply',
                       unknown=True)
    fixes = [f for f in advisories['by_cve'].get(cve, []) if f['release'] == release]
    if not fixes:
        return _result(False, 'no advisory maps %s to a package of %s (%s)' % (cve, release, advisories['source']))
    packages = _package_versions(host, facts, 'rpm')
    reasons, fix_packages, installed, unknown = [], {}, {}, False
    for f in fixes:
        name = f['package']
        if name not in packages:
            reasons.append('%s not installed' % name)
            continue
        try:
            have = _newest(packages[name]['versions'], 'rpm')
            installed[name] = have
            if _versions.compare(have, f['fixed_version'], 'rpm') < 0:
                fix_packages[name] = f['fixed_version']
                reasons.append('%s %s older than %s fixed in %s%s' % (
                    name, have, f['fixed_version'], release,
                    ' (%s)' % f['advisory'] if f.get('advisory') else ''))
            else:
                reasons.append('%s %s at or above %s' % (name, have, f['fixed_version']))
        except _versions.VersionError as e:
            unknown = True
            reasons.append('cannot order installed %s: %s' % (name, e))
    fix = {'type': 'package', 'packages': fix_packages, 'release': release} if fix_packages else None
    return _result(bool(fix_packages), '; '.join(reasons), fix=fix, unknown=unknown and not fix_packages,
                   installed=installed or None)


def _superseders(kb, superseded_by):
    seen, todo = set(), [kb]
    while todo:
        for newer in superseded_by.get(todo.pop(), ()):
            if newer not in seen:
                seen.add(newer)
                todo.append(newer)
    return seen


def match_windows(cve, host, facts, msrc):
    if msrc is None:
        return _result(False, 'no advisory source for platform windows (no MSRC data given)', unknown=True)
    products = facts.get('products') or ([facts['product']] if facts.get('product') else [])
    if not products:
        return _result(False, 'host facts name no Windows product, so MSRC data cannot apply', unknown=True)
    by_product = msrc['by_cve'].get(cve)
    if not by_product:
        return _result(False, 'no advisory maps %s to a Windows KB (%s)' % (cve, msrc['source']))
    installed = set(_kb(k) for k in facts.get('kbs') or [])
    reasons, needed, accepted_all, exposed = [], [], set(), False
    for product in products:
        kbs = by_product.get(product)
        if kbs is None:
            reasons.append('%s not listed for %s' % (product, cve))
            continue
        direct = set(_kb(k) for k in kbs)
        accepted = set(direct)
        for kb in direct:
            accepted |= _superseders(kb, msrc['superseded_by'])
        have = sorted(installed & accepted)
        if have:
            reasons.append('%s has %s installed (fixes %s)' % (product, ', '.join(have), cve))
        else:
            exposed = True
            needed.extend(sorted(direct))
            accepted_all |= accepted
            reasons.append('%s has none of %s (nor a superseding update) installed'
                           % (product, ', '.join(sorted(direct))))
    fix = {'type': 'kb', 'kbs': sorted(set(needed)), 'accepted_kbs': sorted(accepted_all)} if exposed else None
    return _result(exposed, '; '.join(reasons), fix=fix, installed={'kbs': sorted(installed)})


def match_firmware(cve, host, facts, firmware_adv, scheme):
    firmware = facts.get('firmware') or {}
    running = firmware.get('version') or facts.get('version')
    if firmware_adv is None:
        return _result(False, 'no advisory source for platform %s (no firmware advisory data given)' % scheme,
                       unknown=True)
    if not running:
        return _result(False, 'host facts give no running firmware version', unknown=True)
    platforms = firmware_adv['by_cve'].get(cve)
    if not platforms:
        return _result(False, 'no advisory maps %s to firmware (%s)' % (cve, firmware_adv['source']))
    trains = None
    for platform, items in platforms.items():
        if _versions.normalize_scheme(platform) == scheme:
            trains = items
    if trains is None:
        return _result(False, 'no advisory maps %s to platform %s' % (cve, scheme))
    try:
        my_train = _versions.train(running, scheme)
    except _versions.VersionError as e:
        return _result(False, 'cannot read the running version: %s' % e, unknown=True,
                       installed={'version': running})
    installed = {'version': running, 'train': my_train}
    for item in trains:
        if item['train'] != my_train:
            continue
        fixed = item.get('first_fixed')
        if fixed is None:
            return _result(True, 'train %s is affected and has no fixed release: migrate to a fixed train'
                           % my_train, installed=installed)
        if _versions.compare(running, fixed, scheme) < 0:
            return _result(True, '%s %s older than first fixed %s in train %s' % (scheme, running, fixed, my_train),
                           fix={'type': 'image', 'platform': scheme, 'train': my_train, 'version': fixed},
                           installed=installed)
        return _result(False, '%s %s at or above first fixed %s in train %s' % (scheme, running, fixed, my_train),
                       installed=installed)
    return _result(False, 'train %s is not listed as affected by %s' % (my_train, cve), installed=installed)


# ---------------------------------------------------------------- the join

def exposure_join(entries, hosts, advisories, cve_ids=None, policy_hours=None,
                  default_hours=DEFAULT_HOURS, now=None, history=None):
    """Join KEV entries to hosts. Returns {'exposures': [...], 'by_host': {...}, 'summary': {...}}.

    ``advisories`` holds loaded sources (load_* results) under debian, rpm, windows, firmware.
    ``history`` maps (cve, host) -> open episode state from the response history, whose first
    identification time keeps the clock from restarting on every run.
    """
    now = parse_datetime(now) if now is not None else utcnow()
    by_cve = {e['cveID']: e for e in entries}
    if cve_ids:
        missing = [c for c in cve_ids if c not in by_cve]
        if missing:
            raise KevError('not in the KEV catalog: %s' % ', '.join(missing), field='cve_ids')
        selected = [by_cve[c] for c in cve_ids]
    else:
        selected = list(entries)
    if not isinstance(hosts, dict):
        raise KevError('hosts must be a mapping of host name -> facts', field='hosts')
    history = history or {}
    exposures = []
    by_host = {}
    for host in sorted(hosts):
        facts = normalize_host_facts(host, hosts[host] or {})
        family = host_family(host, facts)
        crit = facts.get('criticality')
        # Fail on an unknown criticality before any result: a wrong clock is worse than none.
        if crit not in (None, '') and crit not in (DEFAULT_POLICY_HOURS if policy_hours is None else policy_hours):
            raise KevError('criticality %r has no policy hours' % crit, 'hosts', field='%s.criticality' % host)
        summary = by_host.setdefault(host, {
            'family': family, 'criticality': crit or None, 'exposed': [], 'unknown': [],
            'packages': {}, 'kbs': [], 'image': None, 'no_fix': [], 'earliest_deadline': None})
        for entry in selected:
            cve = entry['cveID']
            if family == 'debian':
                res = match_debian(cve, host, facts, advisories.get('debian'))
            elif family == 'rpm':
                res = match_rpm(cve, host, facts, advisories.get('rpm'))
            elif family == 'windows':
                res = match_windows(cve, host, facts, advisories.get('windows'))
            elif family in FIRMWARE_SCHEMES:
                res = match_firmware(cve, host, facts, advisories.get('firmware'), family)
            else:
                res = _result(False, 'cannot tell the platform family from the host facts '
                              '(give family, os_family or firmware.platform)', unknown=True)
            record = {'host': host, 'cve': cve, 'family': family}
            record.update(res)
            record['kev'] = summarize_entry(entry)
            record['due_date'] = entry['dueDate']
            if res['exposed']:
                previous = history.get((cve, host)) or {}
                identified = previous.get('identified') or isoformat(now)
                clock = sla_clock(entry, identified, crit, policy_hours, default_hours)
                clock['sla_status'] = sla_status(clock['deadline'], now)
                clock['first_seen_this_run'] = not previous.get('identified')
                record.update(clock)
                _add_fix(summary, cve, res['fix'])
                summary['exposed'].append(cve)
                if summary['earliest_deadline'] is None or clock['deadline'] < summary['earliest_deadline']:
                    summary['earliest_deadline'] = clock['deadline']
            else:
                previous = history.get((cve, host)) or {}
                if previous.get('identified'):
                    # An open episode that this run may close: its clock, from today's catalog.
                    clock = sla_clock(entry, previous['identified'], crit, policy_hours, default_hours)
                    clock['sla_status'] = sla_status(clock['deadline'], now)
                    record.update(clock)
                if res['unknown']:
                    summary['unknown'].append(cve)
            exposures.append(record)
    totals = {
        'hosts': len(by_host),
        'cves': len(selected),
        'exposed_pairs': sum(1 for r in exposures if r['exposed']),
        'unknown_pairs': sum(1 for r in exposures if r['unknown']),
        'exposed_hosts': sorted(h for h, s in by_host.items() if s['exposed']),
        'hosts_with_unknowns': sorted(h for h, s in by_host.items() if s['unknown']),
        'evaluated_at': isoformat(now),
    }
    return {'exposures': exposures, 'by_host': by_host, 'summary': totals}


def _add_fix(summary, cve, fix):
    if not fix:
        summary['no_fix'].append(cve)
        return
    if fix['type'] == 'package':
        scheme = 'rpm' if summary['family'] == 'rpm' else 'debian'
        for name, version in fix['packages'].items():
            have = summary['packages'].get(name)
            if have is None or _versions.compare(version, have, scheme) > 0:
                summary['packages'][name] = version
    elif fix['type'] == 'kb':
        summary['kbs'] = sorted(set(summary['kbs']) | set(fix['kbs']))
    elif fix['type'] == 'image':
        have = summary['image']
        if have is None or _versions.compare(fix['version'], have['version'], fix['platform']) > 0:
            summary['image'] = {'platform': fix['platform'], 'train': fix['train'], 'version': fix['version']}
