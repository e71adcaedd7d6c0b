# Private to the healthit.patching collection: not a public API, may change without notice.
"""Emergency response history: per CVE, when each host was identified, patched and verified.

Storage is append-only JSON lines, one file per CVE: ``<state_dir>/kev_history/<CVE>.jsonl``.
Each line is one event::

    {"at": "2026-11-22T07:10:00Z", "cve": "CVE-2021-44228", "host": "lnx-prod-01",
     "event": "identified", "deadline": "...", "deadline_source": "policy", ...}

Events: ``identified`` opens an episode (with the SLA clock fixed at that moment),
``deadline_changed`` records a new deadline for an open episode (the catalog changed the
entry's dueDate, or the host's criticality changed), ``patched`` and ``patch_failed`` record the
platform role's outcome, ``verified`` closes the episode once fresh facts show the host no
longer exposed and records ``sla: met|missed`` against the deadline in force.
A host exposed again after verification opens a new episode. Nothing is ever rewritten, so
the file is the evidence of how the clock ran; the reporting code reads it with
``HistoryStore.report()``.
"""

import json
import os
import re

try:
    import fcntl
except ImportError:  # not on Windows controllers; appends of one line are still atomic enough
    fcntl = None

from ansible_collections.healthit.patching.plugins.module_utils import _kev
from ansible_collections.healthit.patching.plugins.module_utils._kev import (
    KevError, isoformat, parse_datetime, sla_status)

HISTORY_DIRNAME = 'kev_history'
EVENTS = ('identified', 'deadline_changed', 'patched', 'patch_failed', 'verified')
_CVE_RE = re.compile(r'^CVE-[0-9]{4}-[0-9]{4,19}$')


class HistoryError(KevError):
    """A history file that cannot be read back: named with file and line."""


class HistoryStore(object):
    def __init__(self, state_dir):
        if not state_dir:
            raise HistoryError('no state directory given for the response history')
        self.directory = os.path.join(state_dir, HISTORY_DIRNAME)

    def path(self, cve):
        if not _CVE_RE.match(cve or ''):
            raise HistoryError('refusing a history file for %r: not a CVE ID' % (cve,), field='cve')
        return os.path.join(self.directory, cve + '.jsonl')

    # -- reading

    def events(self, cve):
        path = self.path(cve)
        if not os.path.exists(path):
            return []
        out = []
        with open(path, 'r', encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError as e:
                    raise HistoryError('unreadable history line: %s' % e, path, line=lineno)
                if not isinstance(event, dict) or event.get('event') not in EVENTS:
                    raise HistoryError('not a history event', path, line=lineno, field='event')
                for key in ('at', 'host', 'cve'):
                    if not event.get(key):
                        raise HistoryError('history event without %s' % key, path, line=lineno, field=key)
                if event['cve'] != cve:
                    raise HistoryError('event for %s in the file of %s' % (event['cve'], cve), path,
                                       line=lineno, field='cve')
                out.append(event)
        return out

    def cves(self):
        if not os.path.isdir(self.directory):
            return []
        return sorted(n[:-len('.jsonl')] for n in os.listdir(self.directory)
                      if n.endswith('.jsonl') and _CVE_RE.match(n[:-len('.jsonl')]))

    def state(self, cve, now=None):
        """host -> state of its latest episode for this CVE."""
        hosts = {}
        for event in self.events(cve):
            host = event['host']
            if event['event'] == 'identified':
                current = hosts.get(host)
                if current is not None and not current['verified']:
                    continue  # still open: the first identification keeps the clock
                hosts[host] = {
                    'cve': cve, 'host': host, 'identified': event['at'],
                    'deadline': event.get('deadline'), 'deadline_source': event.get('deadline_source'),
                    'kev_due_date': event.get('kev_due_date'), 'criticality': event.get('criticality'),
                    'policy_hours': event.get('policy_hours'), 'fix': event.get('fix'),
                    'catalog_version': event.get('catalog_version'),
                    'patched': None, 'patch_failed': None, 'verified': None, 'sla': None,
                    'deadline_changes': 0,
                    'episodes': (current or {}).get('episodes', 0) + 1,
                }
                continue
            current = hosts.get(host)
            if current is None or current['verified']:
                continue  # patched/verified without an open episode adds nothing to the clock
            if event['event'] == 'patched':
                current['patched'] = current['patched'] or event['at']
            elif event['event'] == 'patch_failed':
                current['patch_failed'] = event['at']
            elif event['event'] == 'deadline_changed':
                current['deadline'] = event.get('deadline') or current['deadline']
                current['deadline_source'] = event.get('deadline_source') or current['deadline_source']
                current['kev_due_date'] = event.get('kev_due_date') or current['kev_due_date']
                current['deadline_changes'] += 1
            elif event['event'] == 'verified':
                current['verified'] = event['at']
                current['sla'] = event.get('sla')
                current['deadline'] = event.get('deadline') or current['deadline']
        if now is not None:
            for st in hosts.values():
                if st['deadline']:
                    st['sla_status'] = sla_status(st['deadline'], now, st['verified'])
        return hosts

    def open_episodes(self, cves):
        """(cve, host) -> state for every episode not yet verified (for the exposure clock)."""
        out = {}
        for cve in cves:
            for host, st in self.state(cve).items():
                if not st['verified']:
                    out[(cve, host)] = st
        return out

    def report(self, now):
        """Flat rows for reporting: one per CVE and host (latest episode) with the SLA status."""
        now = isoformat(parse_datetime(now))
        rows = []
        for cve in self.cves():
            for host, st in sorted(self.state(cve, now).items()):
                rows.append(st)
        return rows

    # -- writing

    def append(self, event):
        for key in ('at', 'cve', 'host', 'event'):
            if not event.get(key):
                raise HistoryError('history event without %s' % key, field=key)
        if event['event'] not in EVENTS:
            raise HistoryError('unknown history event %r' % event['event'], field='event')
        path = self.path(event['cve'])
        if not os.path.isdir(self.directory):
            os.makedirs(self.directory, 0o750)
        line = (json.dumps(event, sort_keys=True, separators=(',', ':')) + '\n').encode('utf-8')
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return event


def plan_updates(exposures, open_episodes, now, patch_results=None, catalog_version=None):
    """Events the exposure run implies, given what the history already holds.

    - exposed and no open episode: ``identified`` with the SLA clock of this run;
    - open episode and a ``patch_results`` entry for the host: ``patched`` or ``patch_failed``
      (once: a repeated run does not repeat the event);
    - open episode whose deadline differs from this run's (dueDate changed in the catalog,
      criticality changed): ``deadline_changed``;
    - open episode and no longer exposed (and not unknown): ``verified`` with sla met/missed
      against the deadline in force.
    """
    now_s = isoformat(parse_datetime(now))
    patch_results = patch_results or {}
    events = []
    for rec in exposures:
        key = (rec['cve'], rec['host'])
        episode = open_episodes.get(key)
        base = {'at': now_s, 'cve': rec['cve'], 'host': rec['host']}
        if rec['exposed'] and episode is None:
            ev = dict(base, event='identified', reason=rec['reason'], fix=rec['fix'],
                      catalog_version=catalog_version)
            for k in ('deadline', 'deadline_source', 'kev_due_date', 'kev_deadline', 'policy_deadline',
                      'criticality', 'policy_hours', 'due_before_added', 'past_due_at_identification'):
                ev[k] = rec.get(k)
            events.append(ev)
            continue
        if episode is None:
            continue
        deadline = rec.get('deadline') or episode.get('deadline')
        if rec.get('deadline') and episode.get('deadline') and rec['deadline'] != episode['deadline']:
            events.append(dict(base, event='deadline_changed', previous_deadline=episode['deadline'],
                               deadline=rec['deadline'], deadline_source=rec.get('deadline_source'),
                               kev_due_date=rec.get('kev_due_date'), criticality=rec.get('criticality'),
                               policy_hours=rec.get('policy_hours'), catalog_version=catalog_version,
                               shortened=rec['deadline'] < episode['deadline']))
        result = patch_results.get(rec['host'])
        if isinstance(result, dict) and result.get('status'):
            status = result['status']
            if status in ('patched', 'current') and not episode.get('patched'):
                events.append(dict(base, event='patched', status=status, after=result.get('after'),
                                   rebooted=result.get('rebooted')))
            elif status in ('failed', 'rolled_back', 'skipped') and not episode.get('patched'):
                events.append(dict(base, event='patch_failed', status=status, reason=result.get('reason')))
        if not rec['exposed'] and not rec['unknown']:
            sla = sla_status(deadline, now_s, verified=now_s) if deadline else None
            events.append(dict(base, event='verified', reason=rec['reason'], deadline=deadline,
                               identified=episode.get('identified'), sla=sla))
    return events


def exposure_run(params, check_mode=False, now=None):
    """What the kev_exposure module does, without Ansible: load, join, update the history.

    ``params`` are the module's options. Returns the module's result dict.
    """
    if params.get('catalog_path'):
        raw = _kev.read_file_bytes(params['catalog_path'], 'KEV catalog')
        loaded = _kev.parse_catalog(raw, params['catalog_path'])
        entries = loaded['catalog']['vulnerabilities']
        catalog_version, catalog_sha256 = loaded['meta']['catalog_version'], loaded['meta']['sha256']
    else:
        entries = _kev.catalog_entries(params.get('catalog'), 'catalog')
        catalog = params.get('catalog')
        catalog_version = catalog.get('catalogVersion') if isinstance(catalog, dict) else None
        catalog_sha256 = None
    only = params.get('cve_ids') or None
    advisories = {
        'debian': _kev.load_debian_tracker(params.get('debian_tracker'), only=only),
        'rpm': _kev.load_rpm_advisories(params.get('rpm_advisories'), only=only),
        'windows': _kev.load_msrc_advisories(params.get('msrc_advisories'), only=only),
        'firmware': _kev.load_firmware_advisories(params.get('firmware_advisories'), only=only),
    }
    now = _kev.parse_datetime(now) if now is not None else _kev.utcnow()
    policy = params.get('policy_hours')
    for crit, hours in (policy or {}).items():
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
            raise KevError('policy hours for %s must be a positive number, got %r' % (crit, hours),
                           field='policy_hours.%s' % crit)
    cve_ids = params.get('cve_ids') or []
    store = None
    if params.get('state_dir') and params.get('record_history', True):
        store = HistoryStore(params['state_dir'])
    cves = cve_ids or [e['cveID'] for e in entries]
    episodes = store.open_episodes(cves) if store else {}
    result = _kev.exposure_join(entries, params.get('hosts') or {}, advisories, cve_ids=cve_ids,
                                policy_hours=params.get('policy_hours'),
                                default_hours=params.get('default_policy_hours') or _kev.DEFAULT_HOURS,
                                now=now, history=episodes)
    events = []
    if store:
        events = plan_updates(result['exposures'], episodes, now, params.get('patch_results'),
                              catalog_version=catalog_version)
        if not check_mode:
            for event in events:
                store.append(event)
    touched = sorted(set([(e['cve'], e['host']) for e in events]) | set(episodes))
    history = []
    if store:
        states = {}
        for cve in sorted(set(c for c, _h in touched)):
            states[cve] = store.state(cve, now=now)
        for cve, host in touched:
            if host in states[cve]:
                history.append(states[cve][host])
    exposures = result['exposures']
    if not params.get('include_unaffected', True):
        exposures = [r for r in exposures if r['exposed'] or r['unknown']]
    return {
        'changed': bool(events),
        'catalog_version': catalog_version,
        'catalog_sha256': catalog_sha256,
        'exposures': exposures,
        'by_host': result['by_host'],
        'summary': result['summary'],
        'history_dir': store.directory if store else None,
        'history_events': events,
        'history': history,
    }
