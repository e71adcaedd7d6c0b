"""Every compliance figure computed from data files: evidence written by the real evidence writer.

Each case in data/compliance/*.yml describes hosts, exceptions, baselines, emergency history and the
runs of a period; the runs are written with the collection's own EvidenceWriter (hash chain and all),
optionally tampered with, verified by the evidence module, and the report's figures are compared
with the case's expectations. Run ids in expectations are the runs' names in the case file.
"""
import datetime
import glob
import json
import os
import uuid

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _compliance as cr
from ansible_collections.healthit.patching.plugins.module_utils import _versions
from ansible_collections.healthit.patching.plugins.module_utils._baseline import content_hash
from ansible_collections.healthit.patching.plugins.module_utils._response_history import HistoryStore
from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer as ew
from ansible_collections.healthit.patching.plugins.plugin_utils._compliance_inputs import read_history

DATA = os.path.join(os.path.dirname(__file__), 'data', 'compliance')
CASES = sorted(glob.glob(os.path.join(DATA, 'case_*.yml')))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
TEMPLATE = os.path.join(ROOT, 'roles', 'compliance_report', 'templates', 'compliance_report.html.j2')


def _load(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def run_uuid(name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, 'healthit.patching/test/' + name))


class Clock(object):
    def __init__(self):
        self.now = None

    def __call__(self):
        return self.now


def write_run(directory, spec):
    """One run's evidence file through the real writer; returns its path."""
    clock = Clock()
    start = cr.utc(spec['start'])
    clock.now = start
    writer = ew.EvidenceWriter(directory, fsync='none', run_id=run_uuid(spec['name']), clock=clock)
    writer.write('run_start', {
        'playbook': {'path': '/collection/playbooks/%s' % spec.get('playbook', 'monthly_wave.yml'), 'sha256': None},
        'change_ticket': spec.get('change_ticket'),
        'extra_vars': spec.get('extra_vars') or {},
        'check_mode': bool(spec.get('check_mode')),
    })
    when = start
    for event in spec.get('events') or []:
        when = cr.utc(event['at']) if event.get('at') else when + datetime.timedelta(minutes=1)
        clock.now = when
        result = {}
        if 'patch_result' in event:
            result['patch_result'] = event['patch_result']
        if 'msg' in event:
            result['msg'] = event['msg']
        if 'patch_summary' in event:
            result['patch_summary'] = event['patch_summary']
        # The result goes through the callback's own filter (allow-list, redaction), as in a real run.
        fields = {'host': event['host'], 'status': event.get('status', 'ok'),
                  'task': event.get('task', 'Report the patch result'),
                  'action': 'ansible.builtin.debug',
                  'result': ew.result_evidence(result, ew.DEFAULT_RESULT_FIELDS, False)}
        if event.get('ignored'):
            fields['ignored'] = True
        writer.write('host_result', fields)
    if spec.get('close', True):
        clock.now = when + datetime.timedelta(minutes=1)
        writer.write('run_end', {'outcome': 'successful', 'hosts': {}, 'totals': {}})
    writer.close()
    _tamper(writer.path, spec.get('tamper'))
    return writer.path


def _tamper(path, how):
    if not how:
        return
    with open(path, 'rb') as handle:
        lines = handle.read().split(b'\n')
    if how == 'edit':
        # A reviewer's nightmare: "failed" quietly rewritten to "patched" on line 2.
        lines[1] = lines[1].replace(b'"failed"', b'"patched"').replace(b'"unreachable"', b'"ok"')
    elif how == 'delete_line':
        del lines[1]
    elif how == 'swap':
        lines[1], lines[2] = lines[2], lines[1]
    elif how == 'truncate':
        lines = lines[:-2] + [lines[-2][:20]]
    else:
        raise ValueError(how)
    with open(path, 'wb') as handle:
        handle.write(b'\n'.join(lines))


def build(case, tmp_path):
    evidence = tmp_path / 'evidence'
    evidence.mkdir()
    for spec in case.get('runs') or []:
        write_run(str(evidence), spec)
    state = tmp_path / 'state'
    (state / 'baselines').mkdir(parents=True)
    for b in case.get('baselines') or []:
        b = dict(b)
        b.setdefault('content_sha256', content_hash(b['content']))
        (state / 'baselines' / ('%s.json' % b['id'])).write_text(json.dumps(b), encoding='utf-8')
        (state / 'baselines' / 'latest.json').write_text(json.dumps(b), encoding='utf-8')
    period = cr.parse_period(case.get('period'), case.get('from'), case.get('to'))
    files = cr.load_evidence(str(evidence))
    history = case.get('history') or []
    if case.get('history_events'):
        # Written and read back by the emergency lane's own store, as the action plugin reads it.
        store = HistoryStore(str(state))
        for event in case['history_events']:
            store.append(event)
        history = read_history(str(state), case['now']).entries
    report = cr.build_report(case.get('hosts') or [], case.get('excepted') or [], case.get('exceptions') or [],
                             files, cr.load_baselines(str(state)), history, period,
                             case['now'], trend_months=case.get('trend_months', 3),
                             review_days=case.get('review_days', 30), compare=_versions.compare)
    return report


def named(value, names):
    """Replace run uuids by the case's run names, anywhere in a value."""
    if isinstance(value, str):
        for rid, name in names.items():
            if rid in value:
                value = value.replace(rid, name)
        return value
    if isinstance(value, list):
        return [named(v, names) for v in value]
    if isinstance(value, dict):
        return dict((k, named(v, names)) for k, v in value.items())
    return value


def view(report, names):
    """The report re-keyed for expectations: hosts by name, groups by name, CVEs by id."""
    r = named(report, names)
    for row in [r['coverage']['estate']] + [g for rows in r['coverage']['by'].values() for g in rows]:
        row['run_ids'] = sorted(row['run_ids'])
    return {
        'estate': r['coverage']['estate'],
        'hosts': dict((h['host'], h) for h in r['hosts']),
        'by': dict((dim, dict((g['group'], g) for g in rows)) for dim, rows in r['coverage']['by'].items()),
        'excepted_hosts': [e['host'] for e in r['excepted_hosts']],
        'evidence': {'verified': r['evidence']['verified'], 'rejected': r['evidence']['rejected'],
                     'incomplete_runs': r['evidence']['incomplete_runs'],
                     'files': dict((f['run_ids'][0] if f['run_ids'] else f['file'], f) for f in r['evidence']['files']),
                     'rejected_reasons': [f['reason'] for f in r['evidence']['files'] if not f['used']]},
        'exceptions': {'counts': r['exceptions']['counts'],
                       'by_id': dict((e['id'], e) for e in r['exceptions']['entries']),
                       'review': [e['id'] for e in r['exceptions']['review_list']]},
        'emergency': {'summary': r['emergency']['summary'],
                      'cves': dict((c['cve'], c) for c in r['emergency']['cves'])},
        'kev': {'buckets': dict((b['bucket'], b['count']) for b in r['kev']['open_by_deadline']),
                'open': ['%s %s' % (i['cve'], i['host']) for i in r['kev']['open']],
                'by': dict((dim, dict((g['group'], g) for g in rows)) for dim, rows in r['kev']['by'].items())},
        'trend': dict((t['group'], t['coverage_pct']) for t in r['trend']),
        'trend_runs': dict((t['group'], t['runs_in_month']) for t in r['trend']),
        'missing': dict((m['severity'], m) for m in r['missing_updates']),
        'runs': [x['run_id'] for x in r['runs']],
        'unknown_hosts': r['unknown_hosts_in_evidence'],
        'baselines': dict((b['id'], b) for b in r['baselines']),
    }


def assert_subset(expected, actual, where='report'):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), '%s: expected a mapping, got %r' % (where, actual)
        for key, value in expected.items():
            assert key in actual, '%s: no %r in %s' % (where, key, sorted(actual))
            assert_subset(value, actual[key], '%s.%s' % (where, key))
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), \
            '%s: expected %r, got %r' % (where, expected, actual)
        for index, (exp, act) in enumerate(zip(expected, actual)):
            assert_subset(exp, act, '%s[%d]' % (where, index))
    elif isinstance(expected, str) and expected.startswith('~'):
        assert expected[1:] in str(actual), '%s: %r does not contain %r' % (where, actual, expected[1:])
    else:
        assert actual == expected, '%s: expected %r, got %r' % (where, expected, actual)


@pytest.mark.parametrize('case_file', CASES, ids=[os.path.basename(c)[5:-4] for c in CASES])
def test_case(case_file, tmp_path):
    case = _load(case_file)
    report = build(case, tmp_path)
    names = dict((run_uuid(r['name']), r['name']) for r in case.get('runs') or [])
    assert_subset(case['expect'], view(report, names))
    # Whatever the case, the figures survive the outputs: JSON round trip, CSV tables, the HTML page.
    json.loads(json.dumps(report))
    tables = cr.csv_tables(report)
    assert len(tables['hosts'][1]) == len(report['hosts']) + len(report['excepted_hosts'])
    html = cr.render_html(report, TEMPLATE)
    est = report['coverage']['estate']
    pct = 'n/a' if est['coverage_pct'] is None else '%s%%' % cr._fmt_num(est['coverage_pct'])
    assert 'data-figure="coverage-pct">%s<' % pct in html
    for f in report['evidence']['files']:
        assert f['sha256'] in html


def test_cases_exist():
    # The acceptance edge cases each have a data file.
    names = set(os.path.basename(c)[5:-4] for c in CASES)
    assert {'no_runs_in_period', 'all_hosts_excepted', 'host_patched_twice', 'run_without_closing_record',
            'tampered_file'} <= names


PERIODS = _load(os.path.join(DATA, 'periods.yml'))


@pytest.mark.parametrize('item', PERIODS['valid'], ids=[str(i['args']) for i in PERIODS['valid']])
def test_period_valid(item):
    period = cr.parse_period(*item['args'])
    assert period.as_dict() == item['expect']


@pytest.mark.parametrize('item', PERIODS['invalid'], ids=[str(i['args']) for i in PERIODS['invalid']])
def test_period_invalid(item):
    with pytest.raises(cr.ComplianceError, match=item['error']):
        cr.parse_period(*item['args'])


def test_trend_months_back():
    months = cr.months_back(cr.parse_period('2026-02'), 4)
    assert [m.label for m in months] == ['2025-11', '2025-12', '2026-01', '2026-02']


def test_csv_neutralises_formulas():
    text = cr.csv_text(['a', 'b'], [['=HYPERLINK("http://x")', '-1+2'], ['plain', None]])
    assert "'=HYPERLINK" in text and "'-1+2" in text and text.endswith('plain,\r\n')


def test_write_outputs(tmp_path):
    case = _load(os.path.join(DATA, 'case_mixed_estate.yml'))
    report = build(case, tmp_path)
    out = tmp_path / 'out'
    written = cr.write_outputs(report, str(out), cr.render_html(report, TEMPLATE))
    assert set(written) == {'json', 'html'} | set('csv_' + t for t in cr.CSV_TABLES)
    for path in written.values():
        assert oct(os.stat(path).st_mode & 0o777) == '0o640'
    with open(written['json'], encoding='utf-8') as handle:
        assert json.load(handle)['coverage']['estate'] == report['coverage']['estate']
    with open(written['csv_coverage'], encoding='utf-8-sig') as handle:
        rows = handle.read().splitlines()
    assert rows[0].startswith('dimension,group,in_scope')
    est = report['coverage']['estate']
    assert rows[1].startswith('estate,estate,%d,%d,' % (est['in_scope'], est['compliant']))


def test_bad_baseline_names_file(tmp_path):
    (tmp_path / 'baselines').mkdir()
    (tmp_path / 'baselines' / 'b1.json').write_text('{"id": "b1", "created": "yesterday", "content": {}}')
    with pytest.raises(cr.ComplianceError, match=r'b1\.json: field created'):
        cr.load_baselines(str(tmp_path))
    (tmp_path / 'baselines' / 'b1.json').write_text('{"id": ')
    with pytest.raises(cr.ComplianceError, match=r'b1\.json: cannot read baseline'):
        cr.load_baselines(str(tmp_path))
    (tmp_path / 'baselines' / 'b1.json').write_text('{"id": "b1", "created": "2026-11-01T00:00:00Z"}')
    with pytest.raises(cr.ComplianceError, match=r'b1\.json: field content'):
        cr.load_baselines(str(tmp_path))


def test_file_changed_while_read_is_rejected(tmp_path, monkeypatch):
    # Verified bytes and parsed bytes must be the same bytes.
    path = write_run(str(tmp_path), {'name': 'r', 'start': '2026-11-02T10:00:00Z',
                                     'events': [{'host': 'a', 'patch_result': {'status': 'patched'}}]})
    real = cr.ev.verify_file

    def verify_then_change(p, key=None):
        res = real(p, key)
        with open(p, 'ab') as handle:
            handle.write(b'{}\n')
        return res

    monkeypatch.setattr(cr.ev, 'verify_file', verify_then_change)
    files = cr.load_evidence(str(tmp_path))
    assert [f.status for f in files] == ['tampered'] and files[0].reason == 'file changed while the report read it'
    assert files[0].runs == [] and os.path.basename(path) == files[0].name
