"""The test wave's baseline, from the cases in data/baseline.yml."""
import copy
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _baseline

DATA = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), 'data', 'baseline.yml')))
CREATED = '2026-11-22T06:00:00Z'


@pytest.mark.parametrize('case', DATA['build'], ids=[c['id'] for c in DATA['build']])
def test_build(case):
    b = _baseline.build(case['results'], case['min_success_rate'], CREATED, change_ticket='CHG0001')
    assert b['status'] == case['status'], b['reason']
    assert b['success_rate'] == case['success_rate']
    assert b['content'] == case['content']
    assert b['content_sha256'] == _baseline.content_hash(case['content'])
    assert b['id'] == '20261122T060000Z-test'
    assert set(b['hosts']) == set(case['results'])


@pytest.mark.parametrize('case', DATA['check'], ids=[c['id'] for c in DATA['check']])
def test_check(case):
    b = _baseline.build(DATA['build'][0]['results'], 0.9, CREATED)
    if case.get('tamper'):
        b = copy.deepcopy(b)
        b['content']['linux:debian:bookworm']['labpkg-web'] = '1.2'
    ok, reason = _baseline.check(b, case.get('rate', 0.9), case['soak'], case['now'])
    assert ok is case['ok'], reason
    if 'reason' in case:
        assert case['reason'] in reason


def test_failed_baseline_is_refused_whatever_the_soak():
    b = _baseline.build({'a': {'status': 'failed', 'baseline_key': 'k'}}, 0.9, CREATED)
    ok, reason = _baseline.check(b, 0.0, 0, '2027-01-01T00:00:00Z')
    assert not ok and 'did not pass' in reason


def test_not_a_baseline():
    assert _baseline.check({'hello': 1}, 0.9, 0, CREATED)[0] is False
