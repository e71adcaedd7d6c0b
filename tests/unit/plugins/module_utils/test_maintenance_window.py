"""Maintenance windows and blackouts, from the cases in data/maintenance_windows.yml."""
import datetime
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _maintenance_window as mw

DATA = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), 'data', 'maintenance_windows.yml')))
UTC = datetime.timezone.utc


@pytest.mark.parametrize('case', DATA['cases'], ids=[c['id'] for c in DATA['cases']])
def test_window_decision(case):
    now = mw.parse_local(case['now'], UTC)
    result = mw.evaluate(case['window'], DATA['windows'], DATA['blackouts'], now=now, site=case.get('site'),
                         site_timezones=DATA['site_timezones'], platform=case.get('platform'),
                         criticality=case.get('criticality'), min_remaining=case.get('min_remaining'))
    assert result['open'] is case['open'], result['reason']
    assert result['reason']
    if 'reason' in case:
        assert case['reason'] in result['reason']
    if 'closes' in case:
        assert result['closes_at'] == case['closes']


@pytest.mark.parametrize('year,month,day', [(2026, 11, 10), (2026, 12, 8), (2027, 1, 12), (2026, 9, 8), (2027, 6, 8)])
def test_patch_tuesday_is_second_tuesday(year, month, day):
    assert mw.patch_tuesday(year, month) == datetime.date(year, month, day)


def test_validate_lists_every_broken_definition():
    problems = mw.validate(DATA['windows'], DATA['blackouts'] + [{'name': 'no end', 'start': '2026-01-01'}])
    joined = '\n'.join(problems)
    for name in ('bad-day', 'bad-tz', 'no-length', 'too-long', 'patch_blackouts[2]'):
        assert name in joined
    assert 'sat-night-ny' not in joined


def test_unreadable_blackouts_close_every_window():
    result = mw.evaluate('sat-night-ny', DATA['windows'], [{'name': 'broken', 'start': 'soon', 'end': 'later'}],
                         now=mw.parse_local('2026-11-29 03:30', UTC))
    assert result['open'] is False
    assert 'blackout periods cannot be read' in result['reason']


def test_filter_wraps_the_helper():
    from ansible_collections.healthit.patching.plugins.filter.window_status import FilterModule
    f = FilterModule().filters()['window_status']
    assert f('one-off', DATA['windows'], [], now='2026-12-27 02:00')['open'] is True
    assert f('one-off', DATA['windows'], [], now='2026-12-28 02:00')['open'] is False
