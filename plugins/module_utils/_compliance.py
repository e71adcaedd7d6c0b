# Private to the healthit.patching collection: not a public API, may change without notice.
"""Compliance figures computed in plain Python from the programme's stored data.

Inputs (each read by the code that owns its format, never re-parsed here):

- audit evidence: JSON Lines files written by the ``hipaa_audit`` callback, verified file by file
  with ``_evidence`` (a file that does not verify is listed with its reason and its data is left
  out of every figure);
- baselines: ``<state dir>/baselines/<id>.json`` written by the ``baseline`` role;
- the emergency response history and KEV exposures (``_response_history``, ``_kev``);
- the exception register (parsed by the caller with the register parser, fail closed) and the
  hosts in scope as the inventory plugin sees them.

Rules (docs/compliance-reporting.md explains them for a compliance officer):

- A host is *compliant* when its latest patch run in the period that reached a verdict for it,
  taken from verified evidence of a completed, non-check-mode run, left it ``patched`` or
  ``current`` against the newest production baseline for its platform. Emergency runs install one
  fix, not a baseline: they feed the emergency history, not coverage. Unreachable, failed,
  rolled back, skipped and never-reported hosts are *not covered*.
- A run without a closing record cannot prove a host compliant; its failed and unreachable
  results still count against the host.
- Hosts under an active exception are out of scope and shown apart; hosts whose exception
  expired are back in scope.
- coverage = compliant / in scope; with nobody in scope it is ``None`` (shown as n/a), never 100 %.

Every figure carries the run ids it was computed from.
"""

import calendar
import csv
import datetime
import io
import json
import os
import statistics

from ansible_collections.healthit.patching.plugins.module_utils import _baseline
from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev

REPORT_SCHEMA_VERSION = 1

# Options of healthit.patching.compliance_report (documented in plugins/modules/compliance_report.py;
# validated by its action plugin on the controller).
ARGUMENT_SPEC = dict(
    report_period=dict(type='str'),
    report_from=dict(type='str'),
    report_to=dict(type='str'),
    evidence_dir=dict(type='path'),
    hmac_key_file=dict(type='path', no_log=False),
    state_dir=dict(type='path'),
    exception_register=dict(type='path'),
    output_dir=dict(type='path', required=True),
    template=dict(type='path'),
    formats=dict(type='list', elements='str', default=['html', 'csv', 'json'], choices=['html', 'csv', 'json']),
    trend_months=dict(type='int', default=12),
    review_days=dict(type='int'),
    now=dict(type='str'),
    hosts=dict(type='list', elements='dict'),
    excepted_hosts=dict(type='list', elements='dict'),
)

COVERED_STATUSES = ('patched', 'current')
# Order in which a host's state is explained in the report, worst first.
HOST_STATES = ('failed', 'rolled_back', 'unreachable', 'skipped', 'outdated', 'incomplete_run',
               'never_reported', 'compliant')
DIMENSIONS = ('site', 'owner', 'platform')
SEVERITY_ORDER = ('critical', 'high', 'important', 'medium', 'moderate', 'low', 'unknown')

# Which version ordering each platform's package versions follow (see _versions.SCHEMES).
PLATFORM_VERSION_SCHEME = {
    'linux': 'debian',
    'kvm_hypervisor': 'debian',
    'ios': 'ios',
    'iosxe': 'iosxe',
    'nxos': 'nxos',
    'junos': 'junos',
}


class ComplianceError(ValueError):
    """Input the report cannot be computed from; the message names the file and field."""


# --------------------------------------------------------------------------------------------
# Time and period


def utc(value, what='timestamp'):
    """Parse an RFC 3339 timestamp or a date into an aware UTC datetime (None stays None)."""
    if value is None or value == '':
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    text = str(value).strip()
    if text.endswith('Z') or text.endswith('z'):
        text = text[:-1] + '+00:00'
    try:
        if len(text) == 10:
            d = datetime.date.fromisoformat(text)
            return datetime.datetime(d.year, d.month, d.day, tzinfo=datetime.timezone.utc)
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ComplianceError('%s: %r is not an RFC 3339 timestamp or a YYYY-MM-DD date' % (what, value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def iso(value):
    """RFC 3339 UTC text for a datetime (None stays None)."""
    if value is None:
        return None
    return value.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _month_start(year, month):
    return datetime.datetime(year, month, 1, tzinfo=datetime.timezone.utc)


def _add_months(dt, n):
    month0 = dt.month - 1 + n
    return _month_start(dt.year + month0 // 12, month0 % 12 + 1)


class Period(object):
    """A half-open reporting interval [start, end) in UTC with a label."""

    def __init__(self, start, end, label):
        if end <= start:
            raise ComplianceError('report period: end %s is not after start %s' % (iso(end), iso(start)))
        self.start = start
        self.end = end
        self.label = label

    def __contains__(self, when):
        return when is not None and self.start <= when < self.end

    def as_dict(self):
        return {'label': self.label, 'start': iso(self.start), 'end': iso(self.end)}


def parse_period(period=None, date_from=None, date_to=None):
    """A Period from ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``, or from inclusive dates from/to."""
    if period and (date_from or date_to):
        raise ComplianceError('report_period: give either a period or from/to dates, not both')
    if period:
        text = str(period).strip().upper()
        try:
            if len(text) == 7 and text[4] == '-' and text[5] != 'Q':
                start = _month_start(int(text[:4]), int(text[5:]))
                return Period(start, _add_months(start, 1), text)
            if len(text) == 7 and text[4:6] == '-Q' and text[6] in '1234':
                start = _month_start(int(text[:4]), 3 * (int(text[6]) - 1) + 1)
                return Period(start, _add_months(start, 3), text)
            if len(text) == 4:
                start = _month_start(int(text), 1)
                return Period(start, _add_months(start, 12), text)
        except ValueError:
            pass
        raise ComplianceError('report_period: %r is not YYYY-MM, YYYY-Qn or YYYY' % (period,))
    if not date_from or not date_to:
        raise ComplianceError('report period: give report_period (YYYY-MM) or both report_from and report_to')
    start = utc(date_from, 'report_from')
    last = utc(date_to, 'report_to')
    # report_to is an inclusive date: the period ends at the end of that day.
    if len(str(date_to).strip()) == 10:
        end = last + datetime.timedelta(days=1)
    else:
        end = last
    return Period(start, end, '%s..%s' % (str(date_from).strip(), str(date_to).strip()))


def months_back(period, count):
    """The ``count`` calendar months ending with the month the period ends in, oldest first."""
    last = period.end - datetime.timedelta(microseconds=1)
    last_start = _month_start(last.year, last.month)
    out = []
    for i in range(count - 1, -1, -1):
        start = _add_months(last_start, -i)
        out.append(Period(start, _add_months(start, 1), start.strftime('%Y-%m')))
    return out


# --------------------------------------------------------------------------------------------
# Evidence: from verified records to per-run, per-host outcomes

def _result_payload(record):
    res = record.get('result')
    return res if isinstance(res, dict) else {}


class Run(object):
    """What one run's evidence says: its context and each host's verdict."""

    __slots__ = ('run_id', 'file', 'started', 'ended', 'complete', 'playbook', 'wave', 'ticket',
                 'check_mode', 'stats', 'kind', 'hosts', 'baseline_id', 'kev_ids')

    def __init__(self, run_id, file_name):
        self.run_id = run_id
        self.file = file_name
        self.started = None
        self.ended = None
        self.complete = False
        self.playbook = None
        self.wave = None
        self.ticket = None
        self.check_mode = False
        self.stats = None
        self.kind = 'other'
        self.baseline_id = None
        self.kev_ids = ()
        # host -> dict(status, reason, when, platform, before, after, rebooted, source)
        self.hosts = {}

    def as_dict(self):
        return {
            'run_id': self.run_id, 'file': self.file, 'started': iso(self.started),
            'ended': iso(self.ended), 'complete': self.complete, 'playbook': self.playbook,
            'wave': self.wave, 'change_ticket': self.ticket, 'check_mode': self.check_mode,
            'kind': self.kind, 'baseline_id': self.baseline_id, 'kev_ids': list(self.kev_ids),
            'hosts': len(self.hosts),
            'stats': self.stats,
        }


def _kind_of(playbook):
    name = os.path.basename(str(playbook or '')).lower()
    if 'emergency' in name or 'kev' in name:
        return 'emergency'
    if 'wave' in name or 'patch' in name:
        return 'wave'
    return 'other'


def runs_from_records(records, file_name, schema):
    """Fold one verified file's records into Run objects (one file normally holds one run).

    ``schema`` names the record fields (see ``EvidenceSchema``); the evidence module owns them.
    """
    runs = {}
    order = []

    def run_for(rec):
        rid = rec.get(schema.run_id) or file_name
        run = runs.get(rid)
        if run is None:
            run = runs[rid] = Run(rid, file_name)
            order.append(rid)
        return run

    for rec in records:
        kind = rec.get(schema.kind)
        when = utc(rec.get(schema.timestamp), '%s: record %s field %s' % (file_name, rec.get('seq'), schema.timestamp))
        run = run_for(rec)
        if kind in schema.run_start:
            extra = rec.get('extra_vars') if isinstance(rec.get('extra_vars'), dict) else {}
            playbook = rec.get('playbook')
            run.started = when
            run.playbook = playbook.get('path') if isinstance(playbook, dict) else playbook
            run.ticket = rec.get('change_ticket') or extra.get('patch_change_ticket')
            run.wave = extra.get('patch_wave')
            run.check_mode = bool(rec.get('check_mode'))
            run.baseline_id = extra.get('patch_baseline')
            run.kind = _kind_of(run.playbook)
            kev_ids = extra.get('kev_ids')
            if isinstance(kev_ids, str):
                kev_ids = [k.strip() for k in kev_ids.split(',')]
            run.kev_ids = tuple(str(k).upper() for k in (kev_ids or ()) if k)
            if run.kev_ids:
                run.kind = 'emergency'
        elif kind in schema.run_end:
            run.ended = when
            run.complete = True
            run.stats = rec.get('stats')
        elif kind in schema.host_result:
            host = rec.get('host')
            if not host:
                continue
            res = _result_payload(rec)
            gate = res.get('patch_emergency_gate')
            if isinstance(gate, dict) and isinstance(gate.get('kev_ids'), list):
                # The emergency gate resolved "new"/"all" to the CVEs this run handles.
                run.kev_ids = tuple(str(k).upper() for k in gate['kev_ids'] if k)
                run.kind = 'emergency'
            summary = res.get('patch_summary')
            if isinstance(summary, dict) and isinstance(summary.get('hosts'), dict):
                _fold_summary(run, summary, when, rec.get('seq'))
                continue
            patch = res.get('patch_result')
            if isinstance(patch, dict) and patch.get('status'):
                run.hosts[host] = _outcome(patch, when, 'patch_result', rec.get('seq'))
            elif rec.get('status') == 'unreachable' or (rec.get('status') == 'failed' and not rec.get('ignored')):
                # A failure after the role's own verdict does not replace that verdict; a failure
                # with no verdict (e.g. unreachable before the role ran) is the host's outcome.
                current = run.hosts.get(host)
                if current is None or current['source'] not in ('patch_result', 'patch_summary'):
                    run.hosts[host] = _outcome({'status': rec['status'],
                                                'reason': res.get('msg') or rec.get('task') or rec['status']},
                                               when, 'task_' + rec['status'], rec.get('seq'))
    return [runs[r] for r in order]


# The evidence writer redacts values under key names that look secret, and "baseline_key" is one of
# them: a redacted key is an unknown key (the host's platform family then picks the baseline).
_REDACTED_VALUES = ('[redacted]',)


def _baseline_key(value):
    if not isinstance(value, str) or not value or value in _REDACTED_VALUES:
        return None
    return value


def _outcome(patch, when, source, seq):
    before, after = patch.get('before'), patch.get('after')
    baseline = patch.get('baseline') or patch.get('baseline_id')
    return {
        'status': str(patch.get('status')).lower(),
        'reason': patch.get('reason') or None,
        'when': when,
        'platform': patch.get('platform'),
        'before': before if isinstance(before, dict) else {},
        'after': after if isinstance(after, dict) else {},
        'rebooted': bool(patch.get('rebooted')),
        'missing': patch.get('missing') or patch.get('pending') or [],
        'baseline_key': _baseline_key(patch.get('baseline_key')),
        'baseline_id': baseline if isinstance(baseline, str) else None,
        'source': source,
        'seq': seq,
    }


def _fold_summary(run, summary, when, seq):
    """The wave's closing patch_summary: the baseline it used or recorded, and a verdict for every
    wave host, including those that never printed one (unreachable, or the run stopped first)."""
    baseline = summary.get('baseline')
    if isinstance(baseline, str) and baseline and not run.baseline_id:
        run.baseline_id = baseline
    for host, item in summary['hosts'].items():
        if not isinstance(item, dict) or not item.get('status'):
            continue
        existing = run.hosts.get(host)
        if existing is not None and existing['source'] == 'patch_result':
            continue
        run.hosts[host] = _outcome(item, when, 'patch_summary', seq)


class EvidenceSchema(object):
    """Names of the record fields, as the evidence writer defines them."""

    def __init__(self, kind='type', timestamp='ts', run_id='run_id', run_start=(ev.RUN_START,),
                 run_end=(ev.RUN_END,), host_result=('host_result',)):
        self.kind = kind
        self.timestamp = timestamp
        self.run_id = run_id
        self.run_start = tuple(run_start)
        self.run_end = tuple(run_end)
        self.host_result = tuple(host_result)


class EvidenceFile(object):
    __slots__ = ('path', 'name', 'sha256', 'size', 'status', 'verified', 'reason', 'hmac', 'runs', 'records')

    def __init__(self, path, name, sha256, size, status, reason, hmac_state, runs, records):
        self.path = path
        self.name = name
        self.sha256 = sha256
        self.size = size
        self.status = status
        # Used for figures: the chain verifies (a run without closing record verifies too, and is
        # flagged incomplete on its runs).
        self.verified = status in (ev.STATUS_VERIFIED, ev.STATUS_INCOMPLETE)
        self.reason = reason
        self.hmac = hmac_state
        self.runs = runs
        self.records = records

    def as_dict(self):
        return {'file': self.name, 'sha256': self.sha256, 'bytes': self.size, 'status': self.status,
                'verified': self.verified, 'reason': self.reason, 'hmac': self.hmac,
                'run_ids': [r.run_id for r in self.runs], 'records': self.records,
                'used': self.verified}


# Byte patterns of the only records the report reads. The verifier has already checked that every
# line is canonical JSON, so a record of interest always contains one of them; other lines (most of a
# run: task starts, ordinary task results) are not parsed a second time.
_INTERESTING = (b'"type":"' + ev.RUN_START.encode() + b'"', b'"type":"' + ev.RUN_END.encode() + b'"',
                b'"patch_result":', b'"patch_summary":', b'"status":"unreachable"', b'"status":"failed"')


def _records_of(data, count):
    out = []
    for raw in data.split(b'\n', count)[:count]:
        for pattern in _INTERESTING:
            if pattern in raw:
                out.append(json.loads(raw.decode('utf-8')))
                break
    return out


def load_evidence(evidence_dir, key=None, schema=None, first_day=None, last_day=None, skip=()):
    """Verify every evidence file with the evidence module and fold the good ones into runs.

    A tampered file is kept in the list (name, SHA-256, reason) with no runs: its data is in no
    figure. ``first_day``/``last_day`` skip files whose run started (per the writer's file name)
    outside those dates; files with other names are always read. ``skip`` lists paths not to read
    (the report run's own evidence file, still open while the report is computed).
    """
    schema = schema or EvidenceSchema()
    files = []
    if not evidence_dir or not os.path.isdir(evidence_dir):
        return files
    skip = set(os.path.realpath(p) for p in skip if p)
    for path in ev.evidence_files(evidence_dir):
        name = os.path.basename(path)
        if os.path.realpath(path) in skip:
            continue
        day = ev.file_run_day(name)
        if day is not None and ((first_day and day < first_day) or (last_day and day > last_day)):
            continue
        res = ev.verify_file(path, key)
        runs, count, reason = [], res['records'], res.get('reason')
        status = res['status']
        if status == ev.STATUS_TAMPERED:
            err = res['first_error'] or {}
            reason = 'line %s (seq %s): %s' % (err.get('line'), err.get('seq'), err.get('reason'))
        else:
            with open(path, 'rb') as handle:
                data = handle.read()
            if ev.sha256_hex(data) != res['sha256']:
                status = ev.STATUS_TAMPERED
                reason = 'file changed while the report read it'
            else:
                runs = runs_from_records(_records_of(data, count), name, schema)
                if status == ev.STATUS_INCOMPLETE:
                    for run in runs:
                        run.complete = False
        files.append(EvidenceFile(path, name, res['sha256'], res['size'], status, reason, res['hmac'], runs, count))
    return files


# --------------------------------------------------------------------------------------------
# Baselines

# Which baseline keys (``<platform family>:...``, see the baseline role) can apply to a platform.
PLATFORM_KEY_PREFIX = {
    'linux': 'linux', 'kvm_hypervisor': 'linux', 'windows_server': 'windows', 'windows_workstation': 'windows',
    'hyperv_hypervisor': 'windows', 'esxi_hypervisor': 'esxi',
}


def baseline_is_production(baseline):
    """A baseline production may use: its test wave passed and its content still matches its SHA-256."""
    return baseline['_content_ok'] and baseline.get('status') == 'passed'


def baseline_for(baselines, key, platform, at):
    """Newest production baseline created before ``at`` with content for this host.

    ``key`` is the host's baseline key as its platform role reported it (``linux:debian:bookworm``);
    without one, any key of the platform's family counts.
    """
    prefix = PLATFORM_KEY_PREFIX.get(platform, platform or '') + ':'
    best = None
    for b in baselines:
        created = b['_created']
        if created is None or created >= at or not baseline_is_production(b):
            continue
        content = b.get('content') or {}
        if key:
            if key not in content:
                continue
        elif not any(str(k).startswith(prefix) for k in content):
            continue
        if best is None or created > best['_created']:
            best = b
    return best


def baseline_versions(baseline, key, platform):
    """name -> version the baseline requires of this host (its key, or every key of its family)."""
    content = baseline.get('content') or {}
    if key:
        return dict((str(n), str(v)) for n, v in (content.get(key) or {}).items())
    prefix = PLATFORM_KEY_PREFIX.get(platform, platform or '') + ':'
    out = {}
    for k, packages in content.items():
        if str(k).startswith(prefix) and isinstance(packages, dict):
            out.update((str(n), str(v)) for n, v in packages.items())
    return out


def load_baselines(state_dir):
    """Every baseline the baseline role recorded under ``<state dir>/baselines`` (``latest.json`` is a copy).

    A file that is not JSON is an error naming it. A baseline whose content no longer matches its
    ``content_sha256`` is kept (the report lists it) but never used.
    """
    out = {}
    bdir = os.path.join(state_dir or '', 'baselines')
    if not state_dir or not os.path.isdir(bdir):
        return []
    for name in sorted(os.listdir(bdir)):
        if not name.endswith('.json') or name == 'latest.json':
            continue
        path = os.path.join(bdir, name)
        try:
            with open(path, 'rb') as handle:
                data = json.loads(handle.read().decode('utf-8'))
        except (OSError, ValueError) as exc:
            raise ComplianceError('%s: cannot read baseline: %s' % (path, exc))
        if not isinstance(data, dict):
            raise ComplianceError('%s: a baseline must be a JSON object' % path)
        data = dict(data)
        data.setdefault('id', name[:-5])
        data['_file'] = path
        data['_created'] = utc(data.get('created'), '%s: field created' % path)
        content = data.get('content')
        if not isinstance(content, dict):
            raise ComplianceError('%s: field content: a baseline needs a mapping of platform key to versions' % path)
        data['_content_ok'] = _baseline.content_hash(content) == data.get('content_sha256')
        data['_sha256'] = ev.file_sha256(path)
        out[data['id']] = data
    return list(out.values())


# --------------------------------------------------------------------------------------------
# Host verdicts

def _version_scheme(platform):
    return PLATFORM_VERSION_SCHEME.get(platform, 'generic')


def _compare_versions(a, b, platform, compare):
    if compare is None:
        return 0 if a == b else None
    try:
        return compare(a, b, _version_scheme(platform))
    except ValueError:
        return 0 if a == b else None


def missing_against_baseline(outcome, required, platform, compare=None):
    """Baseline versions the host's last reported versions are below (severity unknown: baselines carry none)."""
    versions = dict(outcome.get('before') or {})
    versions.update(outcome.get('after') or {})
    missing = []
    for name, want in sorted(required.items()):
        have = versions.get(name)
        if have is None:
            continue
        if isinstance(have, dict):
            have = have.get('version')
        order = _compare_versions(str(have), want, platform, compare)
        if order is not None and order < 0:
            missing.append({'name': name, 'installed': str(have), 'required': want, 'severity': 'unknown'})
    return missing


def _severity(value):
    text = str(value or 'unknown').strip().lower()
    return text if text in SEVERITY_ORDER else 'unknown'


def outcome_component(outcome, platform):
    """What an outcome speaks for: ``None`` for the host's own platform (OS, hypervisor, device
    firmware), or the name of a component layered on it (``app:<name>`` for a certified clinical
    application, ``firmware:...`` for a server's BMC-managed firmware on a host of another platform).

    A host's coverage is its platform's verdict; a component reported in the period can only lower it.
    """
    key = outcome.get('baseline_key') or ''
    if key.startswith('app:'):
        return key
    if key.startswith('firmware:') and outcome.get('platform') and platform and outcome['platform'] != platform:
        return key
    return None


def host_verdict(host, platform, runs, period, baselines, compare=None):
    """The host's state in the period, the run that decided it and the runs that mention it.

    ``runs`` are the host's (run, outcome) pairs from verified evidence, in any order. The platform's
    own outcomes decide; each component (see ``outcome_component``) reported in the period gets a
    verdict of its own in ``components``, and one that is not compliant makes the host not covered
    (an application left failed or rolled back is not a covered host, whatever its OS).
    """
    # Emergency runs install one fix, not the baseline: they are the emergency history's evidence,
    # not a coverage verdict.
    in_period = [(r, o) for r, o in runs if o['when'] in period and not r.check_mode and r.kind != 'emergency']
    in_period.sort(key=lambda ro: (ro[1]['when'], ro[0].run_id))
    trace = [r.run_id for r, _o in in_period]
    groups = {}
    for run, out in in_period:
        groups.setdefault(outcome_component(out, platform), []).append((run, out))
    verdict = _verdict(platform, groups.pop(None, []), period, baselines, compare)
    verdict['runs'] = trace
    verdict['components'] = []
    for name in sorted(groups):
        part = _verdict(platform, groups[name], period, baselines, compare)
        part['component'] = name
        verdict['components'].append(part)
    if verdict['state'] == 'compliant':
        for part in verdict['components']:
            if part['state'] != 'compliant':
                verdict.update(state=part['state'], status=part['status'], run_id=part['run_id'],
                               when=part['when'], reason='%s: %s' % (part['component'], part['reason']))
                break
    for part in verdict['components']:
        verdict['missing'].extend(dict(m, component=part['component']) for m in part['missing'])
    return verdict


def _verdict(platform, in_period, period, baselines, compare):
    """The verdict of one platform or component from its (run, outcome) pairs, oldest first."""
    if not in_period:
        return {'state': 'never_reported', 'reason': 'no patch run reported this host in the period',
                'run_id': None, 'when': None, 'missing': [], 'baseline_id': None, 'status': None}
    # Latest first: a completed run decides; an incomplete run only counts against the host.
    for run, out in reversed(in_period):
        status = out['status']
        if not run.complete and status in COVERED_STATUSES:
            continue
        plat = platform or out.get('platform')
        baseline = baseline_for(baselines, out.get('baseline_key'), plat, period.end)
        required = baseline_versions(baseline, out.get('baseline_key'), plat) if baseline else {}
        verdict = {'run_id': run.run_id, 'when': iso(out['when']), 'status': status,
                   'baseline_id': baseline['id'] if baseline else None, 'missing': []}
        if status in COVERED_STATUSES:
            missing = missing_against_baseline(out, required, plat, compare)
            missing.extend(_reported_missing(out))
            verdict['missing'] = missing
            if missing:
                verdict.update(state='outdated', reason='%d update(s) below baseline %s'
                               % (len(missing), baseline['id'] if baseline else '(none)'))
            elif baseline is not None and not _run_meets_baseline(run, out, baseline, required):
                verdict.update(state='outdated', reason='last %s by run %s before baseline %s was created'
                               % (status, run.run_id, baseline['id']))
            else:
                verdict.update(state='compliant', reason=status if baseline else
                               '%s (no production baseline for this platform: judged by run status)' % status)
            return verdict
        verdict['missing'] = _reported_missing(out)
        state = status if status in HOST_STATES else 'failed'
        if status == 'skipped':
            state = 'skipped'
        verdict.update(state=state, reason=out.get('reason') or status)
        if not run.complete:
            verdict['reason'] = '%s (run %s has no closing record)' % (verdict['reason'], run.run_id)
        return verdict
    run, out = in_period[-1]
    return {'state': 'incomplete_run', 'status': out['status'], 'run_id': run.run_id,
            'when': iso(out['when']), 'missing': [], 'baseline_id': None,
            'reason': 'only runs without a closing record reported this host %s: they cannot prove it'
                      % out['status']}


def _reported_missing(outcome):
    out = []
    for item in outcome.get('missing') or []:
        if isinstance(item, dict) and item.get('name'):
            out.append({'name': str(item['name']), 'installed': item.get('installed'),
                        'required': item.get('version') or item.get('required'),
                        'severity': _severity(item.get('severity'))})
    return out


def _run_meets_baseline(run, outcome, baseline, required):
    """Whether the deciding run brought the host to the baseline (no version below it is known).

    Versions reported by the run decide when they name the baseline's packages; otherwise the run
    must have applied this baseline (by id), be the test wave that recorded it, or have started after
    it was created (a production run installs the newest baseline).
    """
    applied = outcome.get('baseline_id') or run.baseline_id
    if applied and applied == baseline['id']:
        return True
    versions = set(outcome.get('before') or {}) | set(outcome.get('after') or {})
    if versions & set(required):
        return True
    return outcome['when'] >= baseline['_created']


# --------------------------------------------------------------------------------------------
# Exceptions

def exception_status(entries, reference, review_days=30, hosts_by_exception=None):
    """Each register entry with its status at the reference date.

    ``entries`` are the register parser's exception records (id, hosts, owner, approved_by,
    approved_on, expires, compensating_controls, application, reason); ``hosts_by_exception``
    maps an exception id to the inventory hosts it matched, where the caller knows them.
    """
    ref_date = reference.date() if isinstance(reference, datetime.datetime) else reference
    out = []
    for e in entries:
        expires = _as_date(e.get('expires'))
        approved_on = _as_date(e.get('approved_on'))
        if expires is None:
            status = 'invalid'
        elif expires < ref_date:
            status = 'expired'
        elif (expires - ref_date).days <= review_days:
            status = 'expiring'
        else:
            status = 'active'
        days_left = (expires - ref_date).days if expires else None
        item = {
            'id': e.get('id'), 'status': status, 'owner': e.get('owner'),
            'approved_by': e.get('approved_by'), 'approved_on': approved_on.isoformat() if approved_on else None,
            'expires': expires.isoformat() if expires else None, 'days_left': days_left,
            'application': e.get('application'), 'reason': e.get('reason'),
            'compensating_controls': list(e.get('compensating_controls') or []),
            'patterns': [str(p) for p in (e.get('hosts') or [])],
            'hosts': sorted((hosts_by_exception or {}).get(e.get('id'), [])),
        }
        item['review'] = _review_reason(item, approved_on, ref_date, review_days)
        out.append(item)
    out.sort(key=lambda i: (('expired', 'expiring', 'active', 'invalid').index(i['status']), i['expires'] or '', i['id'] or ''))
    return out


def _review_reason(item, approved_on, ref_date, review_days):
    if item['status'] == 'expired':
        return 'expired %s: hosts back in scope; renew or close' % item['expires']
    if item['status'] == 'expiring':
        return 'expires in %d day(s)' % item['days_left']
    if approved_on is not None and (ref_date - approved_on).days >= 90:
        return 'quarterly review: approved %d days ago' % (ref_date - approved_on).days
    return None


def _as_date(value):
    if value is None or value == '':
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ComplianceError('exception register: %r is not a YYYY-MM-DD date' % (value,))


# --------------------------------------------------------------------------------------------
# Emergency (KEV) history

def _hours(a, b):
    if a is None or b is None:
        return None
    return round((b - a).total_seconds() / 3600.0, 2)


def emergency_runs(cve, host, identified, closed, runs):
    """Run ids of emergency runs that acted on this host for this CVE while its exposure was open.

    The history store records times, not run ids; the evidence ties them together: an emergency
    run (kev_ids naming the CVE, or \"all new\") with a verdict for the host between identification
    and verification.
    """
    out = []
    for run in runs:
        if run.kind != 'emergency':
            continue
        if run.kev_ids and cve not in run.kev_ids and 'ALL' not in run.kev_ids and 'NEW' not in run.kev_ids:
            continue
        out_host = run.hosts.get(host)
        when = out_host['when'] if out_host else None
        if when is None:
            continue
        if when >= identified - datetime.timedelta(hours=1) and (closed is None or when <= closed + datetime.timedelta(hours=1)):
            out.append(run.run_id)
    return out


def emergency_history(entries, period, now, host_attrs, runs=()):
    """Per KEV item: time from identification to verified remediation, SLA met/missed, median, worst.

    ``entries`` are response-history records, one per (cve, host): cve, host, identified,
    patched, verified, deadline, run_ids (and optionally kev_due_date, sla). Open exposures are
    those not verified by the end of the period.
    """
    horizon = min(period.end, now)
    per_cve = {}
    open_items = []
    for e in entries:
        identified = utc(e.get('identified'), 'response history %s/%s identified' % (e.get('cve'), e.get('host')))
        if identified is None or identified >= period.end:
            continue
        verified = utc(e.get('verified'), 'response history %s/%s verified' % (e.get('cve'), e.get('host')))
        patched = utc(e.get('patched'), 'response history %s/%s patched' % (e.get('cve'), e.get('host')))
        deadline = utc(e.get('deadline'), 'response history %s/%s deadline' % (e.get('cve'), e.get('host')))
        if verified is not None and verified >= horizon:
            verified = None
        if verified is not None and verified < period.start:
            continue  # closed before the period: not part of this period's history
        host = e.get('host')
        attrs = host_attrs.get(host, {})
        item = {
            'cve': e.get('cve'), 'host': host, 'identified': iso(identified), 'patched': iso(patched),
            'verified': iso(verified), 'deadline': iso(deadline),
            'hours_to_verified': _hours(identified, verified),
            'run_ids': list(e.get('run_ids') or ([e['run_id']] if e.get('run_id') else [])) or
            emergency_runs(e.get('cve'), host, identified, verified or horizon, runs),
            'site': attrs.get('site'), 'owner': attrs.get('owner'), 'platform': attrs.get('platform'),
            'excepted': bool(e.get('excepted')) or attrs.get('excepted', False),
        }
        if verified is not None:
            # The history store decided met/missed when it verified; the same rule otherwise.
            item['sla'] = e.get('sla') or ('met' if deadline is None or verified <= deadline else 'missed')
        else:
            item['sla'] = 'missed' if deadline is not None and horizon > deadline else 'open'
            item['age_hours'] = _hours(identified, horizon)
            item['hours_to_deadline'] = _hours(horizon, deadline)
            item['overdue'] = deadline is not None and horizon > deadline
            open_items.append(item)
        per_cve.setdefault(item['cve'], []).append(item)
    cves = []
    for cve in sorted(per_cve):
        items = sorted(per_cve[cve], key=lambda i: (i['identified'], i['host'] or ''))
        times = [i['hours_to_verified'] for i in items if i['hours_to_verified'] is not None]
        cves.append({
            'cve': cve, 'hosts': len(items),
            'verified': len(times), 'open': sum(1 for i in items if i['verified'] is None),
            'met': sum(1 for i in items if i['sla'] == 'met'),
            'missed': sum(1 for i in items if i['sla'] == 'missed'),
            'median_hours': round(statistics.median(times), 2) if times else None,
            'worst_hours': max(times) if times else None,
            'run_ids': sorted({r for i in items for r in i['run_ids']}),
            'exposures': items,
        })
    all_times = [i['hours_to_verified'] for c in cves for i in c['exposures'] if i['hours_to_verified'] is not None]
    summary = {
        'exposures': sum(c['hosts'] for c in cves), 'verified': len(all_times),
        'met': sum(c['met'] for c in cves), 'missed': sum(c['missed'] for c in cves),
        'open': len(open_items),
        'median_hours': round(statistics.median(all_times), 2) if all_times else None,
        'worst_hours': max(all_times) if all_times else None,
    }
    open_items.sort(key=lambda i: (not i['overdue'], i['hours_to_deadline'] if i['hours_to_deadline'] is not None else 1e12))
    return {'summary': summary, 'cves': cves, 'open': open_items}


AGE_BUCKETS = (('overdue', None), ('due within 24 h', 24), ('due within 72 h', 72), ('later', None))


def kev_open_buckets(open_items):
    """Open KEV exposures by time left before their deadline."""
    counts = dict((name, 0) for name, _h in AGE_BUCKETS)
    counts['no deadline'] = 0
    for item in open_items:
        left = item.get('hours_to_deadline')
        if item.get('overdue'):
            counts['overdue'] += 1
        elif left is None:
            counts['no deadline'] += 1
        elif left <= 24:
            counts['due within 24 h'] += 1
        elif left <= 72:
            counts['due within 72 h'] += 1
        else:
            counts['later'] += 1
    return [{'bucket': k, 'count': v} for k, v in counts.items()]


# --------------------------------------------------------------------------------------------
# The report

def _ratio(num, den):
    return round(100.0 * num / den, 1) if den else None


def _coverage_row(key, hosts):
    counts = dict((s, 0) for s in HOST_STATES)
    runs = set()
    for h in hosts:
        counts[h['state']] += 1
        runs.update(h['runs'])
    in_scope = len(hosts)
    return {'group': key, 'in_scope': in_scope, 'compliant': counts['compliant'],
            'not_covered': in_scope - counts['compliant'],
            'coverage_pct': _ratio(counts['compliant'], in_scope), 'states': counts,
            'run_ids': sorted(runs)}


def coverage_figures(host_rows, excepted_rows):
    """Estate-wide and per site/owner/platform coverage, excepted hosts counted apart."""
    estate = _coverage_row('estate', host_rows)
    estate['excepted'] = len(excepted_rows)
    by = {}
    for dim in DIMENSIONS:
        groups = {}
        for h in host_rows:
            groups.setdefault(h.get(dim) or '(unset)', []).append(h)
        exc = {}
        for h in excepted_rows:
            exc[h.get(dim) or '(unset)'] = exc.get(h.get(dim) or '(unset)', 0) + 1
        rows = []
        for key in sorted(set(groups) | set(exc)):
            row = _coverage_row(key, groups.get(key, []))
            row['excepted'] = exc.get(key, 0)
            rows.append(row)
        by[dim] = rows
    return estate, by


def build_report(hosts, excepted, exceptions, evidence_files, baselines, history, period, now,
                 trend_months=12, review_days=30, compare=None, sources=None):
    """All figures for one period, as a JSON-serialisable dict.

    ``hosts``: in-scope hosts from the inventory, dicts with name, site, owner, platform, wave,
    criticality, exception_expired (bool), exception_id (when expired).
    ``excepted``: hosts under an active exception: name, exception_id, owner, expires,
    compensating_controls, and site/platform where known.
    ``exceptions``: register entries (see ``exception_status``).
    ``evidence_files``: from ``load_evidence``; ``baselines``: from ``load_baselines``;
    ``history``: response-history records (see ``emergency_history``).
    """
    now = utc(now)
    used_runs = [r for f in evidence_files if f.verified for r in f.runs]
    by_host = {}
    for run in used_runs:
        for host, out in run.hosts.items():
            by_host.setdefault(host, []).append((run, out))

    def verdicts_for(per):
        rows = []
        for h in hosts:
            v = host_verdict(h['name'], h.get('platform'), by_host.get(h['name'], ()), per, baselines, compare)
            row = {'host': h['name'], 'site': h.get('site'), 'owner': h.get('owner'),
                   'platform': h.get('platform'), 'wave': h.get('wave'),
                   'criticality': h.get('criticality'),
                   'exception_expired': bool(h.get('exception_expired')),
                   'exception_id': h.get('exception_id')}
            row.update(v)
            rows.append(row)
        return rows

    host_rows = verdicts_for(period)
    excepted_rows = sorted(({'host': e.get('name') or e.get('host'), 'exception_id': e.get('exception_id') or e.get('id'),
                             'owner': e.get('owner'), 'expires': str(e.get('expires')) if e.get('expires') else None,
                             'site': e.get('site'), 'platform': e.get('platform'),
                             'compensating_controls': list(e.get('compensating_controls') or [])}
                            for e in excepted), key=lambda r: (r['host'] or ''))
    estate, by = coverage_figures(host_rows, excepted_rows)

    # Missing updates by severity, over hosts not compliant (and compliant hosts with reported gaps).
    severity = dict((s, {'updates': 0, 'hosts': set(), 'run_ids': set()}) for s in SEVERITY_ORDER)
    for row in host_rows:
        for m in row['missing']:
            s = severity[m['severity']]
            s['updates'] += 1
            s['hosts'].add(row['host'])
            if row['run_id']:
                s['run_ids'].add(row['run_id'])
    missing = [{'severity': k, 'updates': v['updates'], 'hosts': len(v['hosts']), 'run_ids': sorted(v['run_ids'])}
               for k, v in severity.items() if v['updates']]

    reference = min(period.end - datetime.timedelta(seconds=1), now)
    hosts_by_exc = {}
    for e in excepted_rows:
        hosts_by_exc.setdefault(e['exception_id'], []).append(e['host'])
    for h in hosts:
        if h.get('exception_expired') and h.get('exception_id'):
            hosts_by_exc.setdefault(h['exception_id'], []).append(h['name'])
    exc = exception_status(exceptions, reference, review_days, hosts_by_exc)
    exc_counts = dict((s, sum(1 for e in exc if e['status'] == s)) for s in ('active', 'expiring', 'expired'))

    host_attrs = dict((h['name'], {'site': h.get('site'), 'owner': h.get('owner'), 'platform': h.get('platform')})
                      for h in hosts)
    for e in excepted_rows:
        host_attrs[e['host']] = {'site': e.get('site'), 'owner': e.get('owner'), 'platform': e.get('platform'),
                                 'excepted': True}
    emergency = emergency_history(history or [], period, now, host_attrs, used_runs)
    kev_buckets = kev_open_buckets(emergency['open'])
    kev_by = {}
    for dim in DIMENSIONS:
        groups = {}
        for item in emergency['open']:
            g = groups.setdefault(item.get(dim) or '(unset)', {'group': item.get(dim) or '(unset)', 'open': 0, 'overdue': 0})
            g['open'] += 1
            g['overdue'] += 1 if item.get('overdue') else 0
        kev_by[dim] = [groups[k] for k in sorted(groups)]

    trend = []
    for month in months_back(period, trend_months):
        if month.start > now:
            continue
        rows = verdicts_for(month) if month.label != period.label else host_rows
        row = _coverage_row(month.label, rows)
        row['runs_in_month'] = sorted({r.run_id for r in used_runs if r.started in month or
                                       any(o['when'] in month for o in r.hosts.values())})
        trend.append(row)

    # Evidence for hosts that the inventory no longer (or never) lists: shown, not counted.
    known = set(h['name'] for h in hosts) | set(e['host'] for e in excepted_rows)
    strangers = sorted(h for h in by_host if h not in known and any(o['when'] in period for _r, o in by_host[h]))

    runs_in_period = [r for r in used_runs if r.started in period or any(o['when'] in period for o in r.hosts.values())]
    files = [f.as_dict() for f in evidence_files]
    report = {
        'schema_version': REPORT_SCHEMA_VERSION,
        'generated': iso(now),
        'period': period.as_dict(),
        'reference_date': reference.date().isoformat(),
        'sources': sources or {},
        'rules': {
            'compliant': 'latest patch run in the period with a verdict for the host, from verified evidence of a '
                         'completed, non-check-mode run, left it patched or current against the newest production '
                         'baseline for its platform (emergency runs install one fix and feed the emergency history, '
                         'not coverage)',
            'not_covered': 'failed, rolled back, unreachable, skipped, below baseline, only incomplete runs, never reported',
            'components': 'a clinical application (baseline key app:...) or server firmware reported on a host is a '
                          'component with a verdict of its own; it never covers the host, and one left failed, '
                          'rolled back or below its baseline makes the host not covered',
            'excepted': 'hosts under an active exception are out of scope and listed apart',
            'expired_exception': 'hosts whose exception expired are back in scope',
        },
        'coverage': {'estate': estate, 'by': by},
        'hosts': host_rows,
        'excepted_hosts': excepted_rows,
        'missing_updates': missing,
        'kev': {'open_by_deadline': kev_buckets, 'open': emergency['open'], 'by': kev_by},
        'exceptions': {'counts': exc_counts, 'entries': exc,
                       'review_list': [e for e in exc if e['review']]},
        'emergency': {'summary': emergency['summary'], 'cves': emergency['cves']},
        'trend': trend,
        'baselines': [{'id': b['id'], 'created': iso(b['_created']), 'wave': b.get('wave'),
                       'status': b.get('status'), 'reason': b.get('reason'), 'content_ok': b['_content_ok'],
                       'keys': sorted(b.get('content') or {}), 'production': baseline_is_production(b),
                       'success_rate': b.get('success_rate'), 'change_ticket': b.get('change_ticket'),
                       'updates': sum(len(v) for v in (b.get('content') or {}).values() if isinstance(v, dict)),
                       'file': os.path.basename(b['_file']),
                       'sha256': b.get('_sha256')} for b in sorted(baselines, key=lambda b: b['_created'] or now)],
        'runs': [r.as_dict() for r in sorted(runs_in_period, key=lambda r: (r.started or now, r.run_id))],
        'evidence': {
            'files': files,
            'verified': sum(1 for f in evidence_files if f.verified),
            'rejected': sum(1 for f in evidence_files if not f.verified),
            'incomplete_runs': sorted(r.run_id for r in used_runs if not r.complete),
        },
        'unknown_hosts_in_evidence': strangers,
    }
    return report


# --------------------------------------------------------------------------------------------
# Outputs

CSV_TABLES = ('hosts', 'coverage', 'exceptions', 'kev_open', 'emergency', 'trend', 'evidence', 'runs')


def csv_tables(report):
    """name -> (header, rows) for the spreadsheet outputs."""
    tables = {}
    tables['hosts'] = (
        ['host', 'site', 'owner', 'platform', 'wave', 'criticality', 'state', 'status', 'reason', 'run_id',
         'when', 'baseline_id', 'missing_updates', 'exception_expired', 'runs', 'components'],
        [[h['host'], h['site'], h['owner'], h['platform'], h['wave'], h['criticality'], h['state'], h['status'],
          h['reason'], h['run_id'], h['when'], h['baseline_id'], len(h['missing']), h['exception_expired'],
          ' '.join(h['runs']), ' '.join('%s=%s' % (c['component'], c['state']) for c in h.get('components') or [])]
         for h in report['hosts']] +
        [[e['host'], e['site'], e['owner'], e['platform'], None, None, 'excepted', None,
          'exception %s until %s' % (e['exception_id'], e['expires']), None, None, None, None, False, '', '']
         for e in report['excepted_hosts']])
    cov = []
    est = report['coverage']['estate']
    cov.append(['estate', 'estate', est['in_scope'], est['compliant'], est['not_covered'], est['excepted'],
                est['coverage_pct'], ' '.join(est['run_ids'])])
    for dim, rows in report['coverage']['by'].items():
        for r in rows:
            cov.append([dim, r['group'], r['in_scope'], r['compliant'], r['not_covered'], r['excepted'],
                        r['coverage_pct'], ' '.join(r['run_ids'])])
    tables['coverage'] = (['dimension', 'group', 'in_scope', 'compliant', 'not_covered', 'excepted',
                           'coverage_pct', 'run_ids'], cov)
    tables['exceptions'] = (
        ['id', 'status', 'owner', 'approved_by', 'approved_on', 'expires', 'days_left', 'application',
         'compensating_controls', 'hosts', 'review'],
        [[e['id'], e['status'], e['owner'], e['approved_by'], e['approved_on'], e['expires'], e['days_left'],
          e['application'], '; '.join(e['compensating_controls']), ' '.join(e['hosts'] or e['patterns']),
          e['review']] for e in report['exceptions']['entries']])
    tables['kev_open'] = (
        ['cve', 'host', 'site', 'owner', 'platform', 'identified', 'deadline', 'age_hours',
         'hours_to_deadline', 'overdue', 'excepted', 'run_ids'],
        [[i['cve'], i['host'], i['site'], i['owner'], i['platform'], i['identified'], i['deadline'],
          i['age_hours'], i['hours_to_deadline'], i['overdue'], i['excepted'], ' '.join(i['run_ids'])]
         for i in report['kev']['open']])
    tables['emergency'] = (
        ['cve', 'host', 'identified', 'patched', 'verified', 'deadline', 'hours_to_verified', 'sla', 'run_ids'],
        [[i['cve'], i['host'], i['identified'], i['patched'], i['verified'], i['deadline'],
          i['hours_to_verified'], i['sla'], ' '.join(i['run_ids'])]
         for c in report['emergency']['cves'] for i in c['exposures']])
    tables['trend'] = (['month', 'in_scope', 'compliant', 'coverage_pct', 'run_ids'],
                       [[t['group'], t['in_scope'], t['compliant'], t['coverage_pct'], ' '.join(t['runs_in_month'])]
                        for t in report['trend']])
    tables['evidence'] = (['file', 'sha256', 'bytes', 'status', 'used', 'hmac', 'records', 'reason', 'run_ids'],
                          [[f['file'], f['sha256'], f['bytes'], f['status'], f['used'], f['hmac'], f['records'],
                            f['reason'], ' '.join(f['run_ids'])] for f in report['evidence']['files']])
    tables['runs'] = (['run_id', 'kind', 'playbook', 'wave', 'change_ticket', 'started', 'ended', 'complete',
                       'check_mode', 'hosts', 'file'],
                      [[r['run_id'], r['kind'], r['playbook'], r['wave'], r['change_ticket'], r['started'],
                        r['ended'], r['complete'], r['check_mode'], r['hosts'], r['file']] for r in report['runs']])
    return tables


def _csv_cell(value):
    if value is None:
        return ''
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: neutralise it (CSV injection).
    if text[:1] in ('=', '+', '-', '@', '\t', '\r'):
        text = "'" + text
    return text


def csv_text(header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\r\n')
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()


def _atomic_write(path, data, mode=0o640):
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def report_basename(report):
    return 'compliance-%s' % report['period']['label'].replace('..', '_to_').replace(':', '')


def write_outputs(report, out_dir, html=None, formats=('html', 'csv', 'json'), mode=0o640):
    """Write the report's files into ``out_dir``; returns {kind: path}."""
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir, 0o750)
    base = report_basename(report)
    written = {}
    if 'json' in formats:
        path = os.path.join(out_dir, base + '.json')
        _atomic_write(path, json.dumps(report, indent=1, sort_keys=True).encode('utf-8'), mode)
        written['json'] = path
    if 'csv' in formats:
        for name, (header, rows) in csv_tables(report).items():
            path = os.path.join(out_dir, '%s-%s.csv' % (base, name))
            # BOM so spreadsheet programs read UTF-8 owner names correctly.
            _atomic_write(path, ('\ufeff' + csv_text(header, rows)).encode('utf-8'), mode)
            written['csv_' + name] = path
    if 'html' in formats and html is not None:
        path = os.path.join(out_dir, base + '.html')
        _atomic_write(path, html.encode('utf-8'), mode)
        written['html'] = path
    return written


def days_in_month(year, month):
    return calendar.monthrange(year, month)[1]


# --------------------------------------------------------------------------------------------
# Inline SVG charts (no script, no external asset: they print and open anywhere)

def _esc(text):
    return (str(text).replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
            .replace('"', '&quot;'))


STATE_COLOURS = {
    'compliant': '#1b7f3b', 'outdated': '#d08c00', 'skipped': '#8a8f98', 'incomplete_run': '#6b5bb5',
    'never_reported': '#4a4f57', 'unreachable': '#a23b72', 'failed': '#c0392b', 'rolled_back': '#e06c3c',
}


def svg_state_bar(states, figure, width=640, height=36):
    """One horizontal bar split by host state (estate coverage at a glance)."""
    total = sum(states.values())
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" data-figure="%s" '
             'viewBox="0 0 %d %d" width="%d" height="%d"><title>Hosts by state</title>'
             % (_esc(figure), width, height, width, height)]
    if not total:
        parts.append('<rect x="0" y="0" width="%d" height="%d" fill="#e5e7eb"/>' % (width, height))
        parts.append('<text x="8" y="%d" font-size="13">no hosts in scope</text>' % (height // 2 + 5))
    x = 0.0
    for state in reversed(HOST_STATES):
        count = states.get(state, 0)
        if not count:
            continue
        w = width * count / float(total)
        parts.append('<rect x="%.1f" y="0" width="%.1f" height="%d" fill="%s"><title>%s: %d</title></rect>'
                     % (x, w, height, STATE_COLOURS[state], _esc(state.replace('_', ' ')), count))
        x += w
    parts.append('</svg>')
    return ''.join(parts)


def svg_hbars(rows, figure, value_key='coverage_pct', label_key='group', unit='%', maximum=100.0,
              width=640, bar_height=18, gap=6, label_width=180, colour='#1b7f3b', title='Coverage'):
    """Horizontal bars, one per row; rows whose value is None are drawn as 'n/a'."""
    height = max(1, len(rows)) * (bar_height + gap) + gap
    if maximum is None:
        maximum = max([r.get(value_key) or 0 for r in rows] + [1])
    span = width - label_width - 70
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" data-figure="%s" '
             'viewBox="0 0 %d %d" width="%d" height="%d"><title>%s</title>'
             % (_esc(figure), width, height, width, height, _esc(title))]
    for i, r in enumerate(rows):
        y = gap + i * (bar_height + gap)
        value = r.get(value_key)
        label = r.get(label_key)
        parts.append('<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>'
                     % (label_width - 8, y + bar_height - 5, _esc(label)))
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#eef0f3"/>' % (label_width, y, span, bar_height))
        if value is None:
            parts.append('<text x="%d" y="%d" font-size="12">n/a</text>' % (label_width + 6, y + bar_height - 5))
            continue
        w = span * min(float(value), maximum) / maximum if maximum else 0
        parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (label_width, y, w, bar_height, colour))
        parts.append('<text x="%d" y="%d" font-size="12">%s%s</text>'
                     % (label_width + span + 6, y + bar_height - 5, _esc(_fmt_num(value)), _esc(unit)))
    parts.append('</svg>')
    return ''.join(parts)


def _fmt_num(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def svg_trend(points, figure, width=640, height=220):
    """Month-over-month coverage, a line over bars; months with nobody in scope are gaps."""
    left, right, top, bottom = 40, 10, 14, 34
    n = max(1, len(points))
    step = (width - left - right) / float(n)
    plot_h = height - top - bottom
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" data-figure="%s" '
             'viewBox="0 0 %d %d" width="%d" height="%d"><title>Coverage by month</title>'
             % (_esc(figure), width, height, width, height)]
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100.0)
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d1d5db" stroke-width="1"/>'
                     % (left, y, width - right, y))
        parts.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%d%%</text>' % (left - 4, y + 4, pct))
    line = []
    for i, p in enumerate(points):
        x = left + step * i + step / 2.0
        value = p.get('coverage_pct')
        parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>'
                     % (x, height - bottom + 14, _esc(p.get('group'))))
        if value is None or not p.get('runs_in_month'):
            # No evidence at all that month (before the programme recorded runs): a gap, not a 0 %.
            parts.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#8a8f98">no runs</text>'
                         % (x, top + plot_h - 4))
            continue
        y = top + plot_h * (1 - value / 100.0)
        parts.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#cfe8d6"/>'
                     % (x - step * 0.3, y, step * 0.6, top + plot_h - y))
        parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="#1b7f3b"><title>%s: %s%%</title></circle>'
                     % (x, y, _esc(p.get('group')), _esc(_fmt_num(value))))
        line.append('%.1f,%.1f' % (x, y))
    if len(line) > 1:
        parts.append('<polyline points="%s" fill="none" stroke="#1b7f3b" stroke-width="2"/>' % ' '.join(line))
    parts.append('</svg>')
    return ''.join(parts)


def charts(report):
    """The report's SVG charts by name."""
    by = report['coverage']['by']
    out = {
        'estate': svg_state_bar(report['coverage']['estate']['states'], 'chart-estate'),
        'trend': svg_trend(report['trend'], 'chart-trend'),
        'kev': svg_hbars(report['kev']['open_by_deadline'], 'chart-kev', value_key='count', label_key='bucket',
                         unit='', maximum=None, colour='#c0392b', title='Open KEV exposures by deadline'),
        'emergency': svg_hbars([{'group': c['cve'], 'median_hours': c['median_hours']}
                                for c in report['emergency']['cves']], 'chart-emergency',
                               value_key='median_hours', unit=' h', maximum=None, colour='#2563eb',
                               title='Median hours from identification to verified remediation'),
    }
    for dim in DIMENSIONS:
        out[dim] = svg_hbars(by[dim], 'chart-' + dim, title='Coverage by ' + dim)
    return out


def render_html(report, template_path):
    """The self-contained HTML report from the Jinja2 template (controller side only)."""
    import jinja2  # the controller has it; kept out of module import so targets never need it

    directory, name = os.path.split(os.path.abspath(template_path))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters['pct'] = lambda v: 'n/a' if v is None else '%s%%' % _fmt_num(v)
    env.filters['hours'] = lambda v: 'n/a' if v is None else '%s h' % _fmt_num(v)
    env.filters['dash'] = lambda v: '\u2014' if v in (None, '', []) else v
    env.filters['state_label'] = lambda v: str(v).replace('_', ' ')
    import markupsafe

    svg = dict((k, markupsafe.Markup(v)) for k, v in charts(report).items())
    return env.get_template(name).render(report=report, charts=svg, states=HOST_STATES,
                                         dimensions=DIMENSIONS, colours=STATE_COLOURS)
