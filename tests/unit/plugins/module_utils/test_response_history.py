"""Emergency response history: scenarios from data/kev/history_cases.yml, plus file-level checks."""
import json
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _kev
from ansible_collections.healthit.patching.plugins.module_utils._response_history import (
    HistoryError, HistoryStore, plan_updates)

HERE = os.path.dirname(__file__)
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
with open(os.path.join(HERE, 'data', 'kev', 'history_cases.yml')) as f:
    CASES = yaml.safe_load(f)


def _entries(name):
    with open(os.path.join(ROOT, 'tests', 'data', 'kev', name), 'rb') as f:
        loaded = _kev.parse_catalog(f.read(), name)
    return loaded['catalog']['vulnerabilities'], loaded['meta']['catalog_version']


TRACKER = _kev.load_debian_tracker(os.path.join(ROOT, 'tests', 'data', 'advisories', CASES['tracker']))


def _step(store, step, scenario=None):
    scenario = scenario or {}
    cve = scenario.get('cve', CASES['cve'])
    package = scenario.get('package', CASES['package'])
    entries, version = _entries(step.get('catalog', CASES['catalog']))
    hosts = {}
    for host, installed in step['versions'].items():
        release = (step.get('release_override') or {}).get(host, 'bookworm')
        hosts[host] = dict(CASES['hosts'][host], os_family='Debian', release=release, packages={package: installed})
    episodes = store.open_episodes([cve])
    result = _kev.exposure_join(entries, hosts, {'debian': TRACKER}, cve_ids=[cve], now=step['now'], history=episodes)
    events = plan_updates(result['exposures'], episodes, step['now'], step.get('patch_results'),
                          catalog_version=version)
    for ev in events:
        store.append(ev)
    return result, events


@pytest.mark.parametrize('scenario', CASES['scenarios'], ids=[s['name'] for s in CASES['scenarios']])
def test_scenario(tmp_path, scenario):
    store = HistoryStore(str(tmp_path))
    cve = scenario.get('cve', CASES['cve'])
    for i, step in enumerate(scenario['steps']):
        label = step.get('name', 'step %d' % i)
        _result, events = _step(store, step, scenario)
        assert [[e['host'], e['event']] for e in events] == step['events'], label
        state = store.state(cve, now=step['now'])
        for host in step.get('absent') or []:
            assert host not in state, label
        for host, expected in (step.get('state') or {}).items():
            for key, want in expected.items():
                assert state[host].get(key) == want, '%s: %s.%s is %r, expected %r' % (
                    label, host, key, state[host].get(key), want)
    # The file is append-only JSON lines, one per event, all for this CVE.
    path = tmp_path / 'kev_history' / (cve + '.jsonl')
    lines = path.read_text().splitlines()
    assert sum(len(s['events']) for s in scenario['steps']) == len(lines)
    assert all(json.loads(line)['cve'] == cve for line in lines)
    assert oct(path.stat().st_mode & 0o777) == '0o640'


def test_identified_event_carries_the_clock(tmp_path):
    store = HistoryStore(str(tmp_path))
    _r, events = _step(store, {'now': '2024-05-30T10:00:00Z', 'versions': {'lnx-prod-01': '1.0'}})
    ev = [e for e in events if e['host'] == 'lnx-prod-01'][0]
    assert ev['event'] == 'identified'
    assert ev['deadline'] == '2024-05-31T10:00:00Z' and ev['deadline_source'] == 'policy'
    assert ev['kev_due_date'] == '2024-06-20' and ev['criticality'] == 'clinical_critical'
    assert ev['fix'] == {'type': 'package', 'packages': {'labpkg-kernel': '1.1'}, 'release': 'bookworm'}
    assert ev['catalog_version'] == '2025.08.25'


def test_report_rows(tmp_path):
    store = HistoryStore(str(tmp_path))
    for step in CASES['scenarios'][0]['steps'][:4]:
        _step(store, step)
    rows = store.report('2024-06-04T00:00:00Z')
    assert [(r['cve'], r['host'], r['sla_status']) for r in rows] == [
        ('CVE-2024-1086', 'lnx-prod-01', 'met'), ('CVE-2024-1086', 'lnx-test-01', 'missed')]
    assert store.cves() == ['CVE-2024-1086']


def test_corrupt_line_names_file_and_line(tmp_path):
    store = HistoryStore(str(tmp_path))
    store.append({'at': '2024-05-30T10:00:00Z', 'cve': 'CVE-2024-1086', 'host': 'h', 'event': 'identified'})
    with open(store.path('CVE-2024-1086'), 'a') as f:
        f.write('{"at": "2024-05-30T11:00:00Z", "cve": "CVE-2024-1086", "ho\n')
    with pytest.raises(HistoryError) as err:
        store.events('CVE-2024-1086')
    assert err.value.line == 2 and err.value.source == store.path('CVE-2024-1086')


@pytest.mark.parametrize('event,error', [
    ({'at': '2024-05-30T10:00:00Z', 'cve': 'CVE-2024-1086', 'host': 'h', 'event': 'fixed'}, 'unknown history event'),
    ({'at': '2024-05-30T10:00:00Z', 'cve': 'CVE-2024-1086', 'event': 'identified'}, 'without host'),
    ({'at': '2024-05-30T10:00:00Z', 'cve': '../../etc/passwd', 'host': 'h', 'event': 'identified'}, 'not a CVE ID'),
])
def test_bad_events_are_refused(tmp_path, event, error):
    with pytest.raises(HistoryError, match=error):
        HistoryStore(str(tmp_path)).append(event)


def test_event_for_another_cve_in_a_file_is_refused(tmp_path):
    store = HistoryStore(str(tmp_path))
    store.append({'at': '2024-05-30T10:00:00Z', 'cve': 'CVE-2024-1086', 'host': 'h', 'event': 'identified'})
    os.rename(store.path('CVE-2024-1086'), store.path('CVE-2021-44228'))
    with pytest.raises(HistoryError, match='event for CVE-2024-1086 in the file of CVE-2021-44228'):
        store.events('CVE-2021-44228')
