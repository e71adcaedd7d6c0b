"""KEV catalog validation, last-known-good, diff, SLA clock and exposure join, from data files."""
import copy
import json
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _kev

HERE = os.path.dirname(__file__)
CASES = os.path.join(HERE, 'data', 'kev')
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
KEV_DATA = os.path.join(ROOT, 'tests', 'data', 'kev')
ADVISORIES = os.path.join(ROOT, 'tests', 'data', 'advisories')
FULL = os.path.join(KEV_DATA, 'full', 'known_exploited_vulnerabilities.json')


def _yaml(name):
    with open(os.path.join(CASES, name)) as f:
        return yaml.safe_load(f)


def _bytes(rel):
    with open(os.path.join(KEV_DATA, rel), 'rb') as f:
        return f.read()


CATALOG_CASES = _yaml('catalog_cases.yml')
DIFF_CASES = _yaml('diff_cases.yml')
SLA_CASES = _yaml('sla_cases.yml')
EXPOSURE = _yaml('exposure_cases.yml')


def _ids(cases):
    return [c['name'] for c in cases]


# ---------------------------------------------------------------- catalog validation

@pytest.mark.parametrize('case', CATALOG_CASES['valid'], ids=_ids(CATALOG_CASES['valid']))
def test_valid_catalogs(case):
    raw = _bytes(case['file'])
    loaded = _kev.parse_catalog(raw, case['file'])
    meta = loaded['meta']
    assert meta['catalog_version'] == case['catalog_version']
    assert meta['date_released'] == case['date_released']
    assert meta['count'] == case['count'] == len(loaded['catalog']['vulnerabilities'])
    assert len(meta['due_before_added']) == case['due_before_added']
    if 'sha256' in case:
        assert meta['sha256'] == case['sha256']


def test_embedded_schema_is_the_published_schema_minus_descriptions():
    with open(os.path.join(KEV_DATA, 'schema.json')) as f:
        published = json.load(f)

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ('description', 'url')}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    assert strip(published) == strip(_kev.KEV_SCHEMA)


def _broken(case):
    raw = _bytes(case['file'])
    if 'truncate_at' in case:
        return raw[:case['truncate_at']]
    if 'truncate_from_end' in case:
        return raw[:-case['truncate_from_end']]
    if 'replace_all' in case:
        return case['replace_all'].encode('utf-8')
    if 'text_replace' in case:
        old, new = case['text_replace']
        assert old.encode() in raw
        return raw.replace(old.encode(), new.encode(), 1)
    catalog = json.loads(raw)
    if 'keep_entries' in case:
        catalog['vulnerabilities'] = catalog['vulnerabilities'][:case['keep_entries']]
    edits = case.get('set_many') or ([case['set']] if 'set' in case else [])
    for edit in edits:
        node = catalog
        for step in edit['path'][:-1]:
            node = node[step]
        node[edit['path'][-1]] = edit['value']
    if 'delete' in case:
        node = catalog
        for step in case['delete'][:-1]:
            node = node[step]
        del node[case['delete'][-1]]
    return json.dumps(catalog, indent=4).encode('utf-8')


@pytest.mark.parametrize('case', CATALOG_CASES['invalid'], ids=_ids(CATALOG_CASES['invalid']))
def test_invalid_catalogs_are_refused_with_file_line_and_field(case):
    data = _broken(case)
    with pytest.raises(_kev.KevError) as err:
        _kev.parse_catalog(data, 'feed.json')
    e = err.value
    assert case['error'] in str(e)
    assert str(e).startswith('feed.json: ')
    assert e.source == 'feed.json'
    if 'field' in case:
        assert e.field == case['field']
        assert 'field %s' % case['field'] in str(e)
    if 'line_contains' in case:
        assert e.line, 'no line number in %s' % e
        line_text = data.decode('utf-8').splitlines()[e.line - 1]
        assert case['line_contains'] in line_text, (e.line, line_text)
    if case.get('truncate_at') or case.get('truncate_from_end'):
        # The error points at the end of what arrived, the place the download stopped.
        assert e.line == data.decode('utf-8', 'replace').count('\n') + 1


def test_invalid_utf8_names_the_line():
    raw = _bytes('catalog-trimmed.json')
    pos = raw.index(b'"vendorProject"', 5000)
    data = raw[:pos] + b'\xff\xfe' + raw[pos:]
    with pytest.raises(_kev.KevError, match='not UTF-8') as err:
        _kev.parse_catalog(data, 'feed.json')
    assert err.value.line == raw[:pos].count(b'\n') + 1


def test_missing_jsonschema_fails_clearly(monkeypatch):
    monkeypatch.setattr(_kev, 'jsonschema', None)
    with pytest.raises(_kev.KevError, match='jsonschema is required'):
        _kev.parse_catalog(_bytes('catalog-trimmed.json'), 'feed.json')


@pytest.mark.parametrize('path', [
    ['count'], ['vulnerabilities', 0, 'cveID'], ['vulnerabilities', 31, 'cwes', 0], ['dateReleased'],
    ['vulnerabilities', 12],
])
def test_locate_points_at_the_value(path):
    text = _bytes('catalog-trimmed.json').decode('utf-8')
    catalog = json.loads(text)
    line, col = _kev.locate(text, path)
    value = catalog
    for step in path:
        value = value[step]
    rendered = text.splitlines()[line - 1][col - 1:]
    expected = json.dumps(value)[:20] if not isinstance(value, dict) else '{'
    assert rendered.startswith(expected)


def test_locate_in_the_full_snapshot():
    text = _bytes('full/known_exploited_vulnerabilities.json').decode('utf-8')
    line, _col = _kev.locate(text, ['vulnerabilities', 1403, 'dueDate'])
    last_due = json.loads(text)['vulnerabilities'][1403]['dueDate']
    assert '"dueDate": "%s"' % last_due in text.splitlines()[line - 1]
    assert _kev.locate(text, ['vulnerabilities', 1404]) is None
    assert _kev.locate(text, ['nope']) is None


# ---------------------------------------------------------------- last-known-good

def _lkg_setup(tmp_path):
    lkg = tmp_path / 'state' / 'kev-lkg.json'
    good = _bytes('catalog-trimmed.json')
    first = _kev.load_catalog(good, 'feed.json', lkg_path=str(lkg))
    return lkg, good, first


def test_valid_catalog_becomes_last_known_good(tmp_path):
    lkg, good, first = _lkg_setup(tmp_path)
    assert first['changed'] and first['lkg_updated']
    assert lkg.read_bytes() == good
    assert oct(lkg.stat().st_mode & 0o777) == '0o640'
    assert first['diff'] is None  # nothing to compare with yet
    again = _kev.load_catalog(good, 'feed.json', lkg_path=str(lkg))
    assert not again['changed']
    assert again['diff']['new'] == [] and again['diff']['removed'] == []


@pytest.mark.parametrize('case', [c for c in CATALOG_CASES['invalid'] if c['file'] == 'catalog-trimmed.json'],
                         ids=_ids([c for c in CATALOG_CASES['invalid'] if c['file'] == 'catalog-trimmed.json']))
def test_invalid_download_never_replaces_last_known_good(tmp_path, case):
    lkg, good, _first = _lkg_setup(tmp_path)
    with pytest.raises(_kev.KevError):
        _kev.load_catalog(_broken(case), 'feed.json', lkg_path=str(lkg))
    assert lkg.read_bytes() == good
    used = _kev.load_catalog(_broken(case), 'feed.json', lkg_path=str(lkg), use_last_known_good=True)
    assert used['used_last_known_good'] is True
    assert case['error'] in used['last_known_good_reason']
    assert used['meta']['sha256'] == _kev.sha256_hex(good)
    assert used['meta']['source'] == str(lkg)
    assert used['catalog']['count'] == 33
    assert not used['changed']
    assert lkg.read_bytes() == good


def test_fetch_failure_falls_back_when_configured(tmp_path):
    lkg, good, _first = _lkg_setup(tmp_path)
    used = _kev.load_catalog(None, 'http://127.0.0.1:1/kev.json', lkg_path=str(lkg),
                             use_last_known_good=True, fetch_error='connection refused')
    assert used['used_last_known_good']
    assert 'connection refused' in used['last_known_good_reason']
    with pytest.raises(_kev.KevError, match='connection refused'):
        _kev.load_catalog(None, 'http://127.0.0.1:1/kev.json', lkg_path=str(lkg), fetch_error='connection refused')


def test_no_last_known_good_to_fall_back_to(tmp_path):
    with pytest.raises(_kev.KevError, match='no copy exists at'):
        _kev.load_catalog(b'{', 'feed.json', lkg_path=str(tmp_path / 'none.json'), use_last_known_good=True)
    with pytest.raises(_kev.KevError, match='no lkg_path is configured'):
        _kev.load_catalog(b'{', 'feed.json', use_last_known_good=True)


def test_damaged_last_known_good_is_reported_not_used(tmp_path):
    lkg = tmp_path / 'lkg.json'
    lkg.write_bytes(_bytes('catalog-trimmed.json')[:1000])
    with pytest.raises(_kev.KevError, match='its copy is damaged') as err:
        _kev.load_catalog(b'{', 'feed.json', lkg_path=str(lkg), use_last_known_good=True)
    assert 'truncated' in str(err.value)
    # A good download replaces the damaged copy, and the damage is reported.
    res = _kev.load_catalog(_bytes('catalog-trimmed.json'), 'feed.json', lkg_path=str(lkg))
    assert res['lkg_updated'] and 'truncated' in res['lkg_problem']
    assert lkg.read_bytes() == _bytes('catalog-trimmed.json')


def test_check_mode_does_not_write(tmp_path):
    lkg = tmp_path / 'lkg.json'
    res = _kev.load_catalog(_bytes('catalog-trimmed.json'), 'feed.json', lkg_path=str(lkg), write=False)
    assert res['changed'] and not lkg.exists()


def test_later_catalog_is_diffed_against_last_known_good(tmp_path):
    lkg = tmp_path / 'lkg.json'
    _kev.load_catalog(_bytes('diff/previous.json'), 'feed.json', lkg_path=str(lkg))
    res = _kev.load_catalog(_bytes('diff/current.json'), 'feed.json', lkg_path=str(lkg))
    assert res['diff']['removed'] == ['CVE-2025-32433']
    assert res['diff']['new'] == ['CVE-2025-8876']
    assert res['diff']['due_date_shortened'] == ['CVE-2021-44228']
    assert res['diff']['previous_sha256'] == _kev.sha256_hex(_bytes('diff/previous.json'))
    assert lkg.read_bytes() == _bytes('diff/current.json')


def test_explicit_previous_catalog(tmp_path):
    res = _kev.load_catalog(_bytes('diff/current.json'), 'feed.json',
                            previous=('previous.json', _bytes('diff/previous.json')))
    assert res['diff']['removed'] == ['CVE-2025-32433']
    assert not res['changed']


# ---------------------------------------------------------------- diff

@pytest.mark.parametrize('case', DIFF_CASES['cases'], ids=_ids(DIFF_CASES['cases']))
def test_diff(case):
    prev = _kev.parse_catalog(_bytes(case['previous']), case['previous'])['catalog']
    cur = _kev.parse_catalog(_bytes(case['current']), case['current'])['catalog']
    diff = _kev.diff_catalogs(prev, cur)
    if 'new' in case:
        assert diff['new'] == case['new']
    if 'new_count' in case:
        assert len(diff['new']) == case['new_count']
    assert diff['removed'] == case['removed']
    assert diff['due_date_changed'] == case['due_date_changed']
    assert diff['due_date_shortened'] == case['due_date_shortened']


# ---------------------------------------------------------------- SLA

FULL_ENTRIES = {e['cveID']: e for e in json.loads(_bytes('full/known_exploited_vulnerabilities.json'))['vulnerabilities']}


@pytest.mark.parametrize('case', SLA_CASES['cases'], ids=_ids(SLA_CASES['cases']))
def test_sla_clock(case):
    entry = FULL_ENTRIES[case['cve']]
    clock = _kev.sla_clock(entry, case['identified'], case['criticality'], case.get('policy'))
    for key in ('deadline', 'deadline_source', 'policy_deadline', 'policy_hours', 'due_before_added',
                'past_due_at_identification'):
        if key in case:
            assert clock[key] == case[key], key
    assert clock['kev_due_date'] == entry['dueDate']
    assert clock['deadline'] == min(clock['kev_deadline'], clock['policy_deadline'])


@pytest.mark.parametrize('case', SLA_CASES['invalid'], ids=_ids(SLA_CASES['invalid']))
def test_sla_clock_refuses(case):
    with pytest.raises((_kev.KevError, ValueError), match=case['error']):
        _kev.sla_clock(FULL_ENTRIES[case['cve']], case['identified'], case['criticality'])


def test_the_due_before_added_table_is_the_whole_snapshot():
    listed = {c['cve'] for c in SLA_CASES['due_before_added']}
    actual = {c for c, e in FULL_ENTRIES.items() if e['dueDate'] < e['dateAdded']}
    assert listed == actual and len(listed) == 15


@pytest.mark.parametrize('case', SLA_CASES['due_before_added'], ids=[c['cve'] for c in SLA_CASES['due_before_added']])
@pytest.mark.parametrize('criticality', ['clinical_critical', 'business', 'low', None])
def test_entries_due_before_added_keep_their_own_due_date(case, criticality):
    entry = FULL_ENTRIES[case['cve']]
    assert (entry['dateAdded'], entry['dueDate']) == (case['date_added'], case['due_date'])
    clock = _kev.sla_clock(entry, case['date_added'] + 'T09:00:00Z', criticality)
    assert clock['deadline'] == case['due_date'] + 'T23:59:59Z'
    assert clock['deadline_source'] == 'kev_due_date'
    assert clock['due_before_added'] and clock['past_due_at_identification']
    assert _kev.sla_status(clock['deadline'], clock['identified']) == 'overdue'


@pytest.mark.parametrize('case', SLA_CASES['status'])
def test_sla_status(case):
    assert _kev.sla_status(case['deadline'], case['now'], case['verified']) == case['expected']


# ---------------------------------------------------------------- exposure join

def _advisory_value(value):
    if isinstance(value, str):
        return os.path.join(ADVISORIES, value)
    if isinstance(value, list):
        return [_advisory_value(v) for v in value]
    return value


def _advisories(spec):
    spec = EXPOSURE['advisories'] if spec is None else spec
    return {
        'debian': _kev.load_debian_tracker(_advisory_value(spec.get('debian'))),
        'rpm': _kev.load_rpm_advisories(_advisory_value(spec.get('rpm'))),
        'windows': _kev.load_msrc_advisories(_advisory_value(spec.get('windows'))),
        'firmware': _kev.load_firmware_advisories(_advisory_value(spec.get('firmware'))),
    }


EXPOSURE_ENTRIES = _kev.parse_catalog(_bytes(EXPOSURE['catalog']), EXPOSURE['catalog'])['catalog']['vulnerabilities']


def _run(case):
    history = {(h['cve'], h['host']): h for h in case.get('history') or []}
    return _kev.exposure_join(EXPOSURE_ENTRIES, copy.deepcopy(case['hosts']), _advisories(case.get('advisories')),
                              cve_ids=case['cves'], now=case.get('now', EXPOSURE['now']), history=history)


def _check(actual, expected, label):
    for key, want in expected.items():
        if key == 'reason':
            assert want in actual['reason'], '%s: %r not in %r' % (label, want, actual['reason'])
        else:
            assert actual.get(key) == want, '%s: %s is %r, expected %r' % (label, key, actual.get(key), want)


@pytest.mark.parametrize('case', EXPOSURE['cases'], ids=_ids(EXPOSURE['cases']))
def test_exposure(case):
    result = _run(case)
    assert len(result['exposures']) == len(case['hosts']) * len(case['cves'])
    for exp in case['expect']:
        matches = [r for r in result['exposures']
                   if r['host'] == exp.get('host', r['host']) and r['cve'] == exp.get('cve', r['cve'])]
        assert len(matches) == 1, exp
        _check(matches[0], exp, '%s/%s' % (matches[0]['host'], matches[0]['cve']))
    for host, exp in (case.get('by_host') or {}).items():
        _check(result['by_host'][host], exp, host)
    _check(result['summary'], case.get('summary') or {}, 'summary')
    for rec in result['exposures']:
        # Doubt is never hidden: unknown results are not exposed and carry a reason.
        assert rec['reason']
        assert not (rec['unknown'] and rec['exposed'])
        if rec['exposed']:
            assert rec['due_date'] == rec['kev']['dueDate']
            assert rec['deadline'] <= rec['kev_deadline']


@pytest.mark.parametrize('case', EXPOSURE['errors'], ids=_ids(EXPOSURE['errors']))
def test_exposure_errors(case):
    with pytest.raises(_kev.KevError, match=case['error'].replace('[', r'\[').replace(']', r'\]').replace('(', r'\(').replace(')', r'\)')):
        _run(case)


@pytest.mark.parametrize('case', EXPOSURE['real_tracker'], ids=[str(i) for i in range(len(EXPOSURE['real_tracker']))])
def test_real_tracker_sample(case):
    tracker = _kev.load_debian_tracker(os.path.join(ADVISORIES, 'debian-tracker-sample.json'))
    res = _kev.match_debian(case['cve'], 'h', {'release': case['release'], 'packages': case['packages']}, tracker)
    assert res['exposed'] is case['exposed'], res
    assert res['unknown'] is case.get('unknown', False), res
    if case.get('fix_version'):
        assert set(res['fix']['packages'].values()) == {case['fix_version']}
    if case.get('reason'):
        assert case['reason'] in res['reason']


def test_catalog_entries_accepts_catalog_or_entry_list():
    catalog = json.loads(_bytes('catalog-trimmed.json'))
    assert len(_kev.catalog_entries(catalog)) == 33
    assert len(_kev.catalog_entries(catalog['vulnerabilities'][:3])) == 3
    broken = copy.deepcopy(catalog['vulnerabilities'][:3])
    del broken[2]['dueDate']
    with pytest.raises(_kev.KevError, match=r"field \[2\]: not a KEV entry: 'dueDate' is a required property"):
        _kev.catalog_entries(broken)
    catalog['count'] = 5
    with pytest.raises(_kev.KevError, match='count is 5'):
        _kev.catalog_entries(catalog)


def test_advisory_file_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / 'tracker.json'
    bad.write_text('{\n  "labpkg-web": {\n    "CVE-2021-44228": {"releases": {"bookworm": {"status": "resolved",}}}\n  }\n}\n')
    with pytest.raises(_kev.KevError) as err:
        _kev.load_debian_tracker(str(bad))
    assert err.value.source == str(bad) and err.value.line == 3
    with pytest.raises(_kev.KevError, match='cannot read'):
        _kev.load_debian_tracker(str(tmp_path / 'missing.json'))


def test_loaders_read_only_the_cves_asked_about():
    data = {'CVE-2023-4911': [{'package': 'glibc', 'fixed_version': '2.34-83.el9_3.7'}],
            'CVE-2021-4034': [{'package': 'polkit', 'fixed_version': '0.117-7.el9', 'release': 'el9'}]}
    loaded = _kev.load_rpm_advisories(data, only=['CVE-2021-4034'])
    assert list(loaded['by_cve']) == ['CVE-2021-4034']
    with pytest.raises(_kev.KevError, match=r'CVE-2023-4911\[0\]\.release'):
        _kev.load_rpm_advisories(data, only=['CVE-2023-4911'])
    tracker = _kev.load_debian_tracker([os.path.join(ADVISORIES, 'debian-tracker-sample.json'),
                                        os.path.join(ADVISORIES, 'lab-debian-tracker.json')], only=['CVE-2024-1086'])
    assert list(tracker['by_cve']) == ['CVE-2024-1086']
    assert tracker['source'].endswith('lab-debian-tracker.json')
    msrc = _kev.load_msrc_advisories(os.path.join(ADVISORIES, 'lab-msrc.json'), only=['CVE-2020-1472'])
    assert list(msrc['by_cve']) == ['CVE-2020-1472'] and 'KB4565349' in msrc['superseded_by']
    firmware = _kev.load_firmware_advisories(os.path.join(ADVISORIES, 'lab-firmware.json'), only=['CVE-2023-20198'])
    assert list(firmware['by_cve']) == ['CVE-2023-20198']


def test_lab_catalog_is_valid_and_keeps_everything_else(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location('lab_catalog', os.path.join(KEV_DATA, 'lab_catalog.py'))
    lab = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lab)
    import datetime
    catalog = lab.lab_catalog(['CVE-2021-44228'], due_days=3, added=datetime.date(2026, 11, 22))
    data = json.dumps(catalog).encode()
    loaded = _kev.parse_catalog(data, 'lab.json')
    assert loaded['meta']['catalog_version'] == 'lab-2026-11-22' and loaded['meta']['count'] == 1404
    entry = [e for e in catalog['vulnerabilities'] if e['cveID'] == 'CVE-2021-44228'][0]
    assert (entry['dateAdded'], entry['dueDate']) == ('2026-11-22', '2026-11-25')
    assert entry['notes'].startswith('LAB DATA')
    others = [e for e in catalog['vulnerabilities'] if e['cveID'] != 'CVE-2021-44228']
    assert others == [e for e in FULL_ENTRIES.values() if e['cveID'] != 'CVE-2021-44228']
    clock = _kev.sla_clock(entry, '2026-11-22T08:00:00Z', 'business')
    assert clock['deadline'] == '2026-11-24T08:00:00Z' and clock['deadline_source'] == 'policy'
    with pytest.raises(ValueError, match='CVE-2025-4664'):
        lab.lab_catalog(['CVE-2025-4664'])
