"""KB selection, baseline filtering and round bookkeeping for windows_patch, from the data files beside this test."""
import os
import re

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.plugin_utils._kb_selection import (
    SelectionError, advance, build_selection, describe_hresult, hresult_policy, normalize_kb)

DATA = os.path.join(os.path.dirname(__file__), 'data')


def _load(name):
    with open(os.path.join(DATA, name), encoding='utf-8') as f:
        return yaml.safe_load(f)


SELECTION = _load('kb_selection.yml')
FILTERING = _load('baseline_filtering.yml')
ROUNDS = _load('win_update_rounds.yml')


@pytest.mark.parametrize('case', SELECTION, ids=[c['id'] for c in SELECTION])
def test_selection(case):
    if 'error' in case:
        with pytest.raises(SelectionError, match=case['error']):
            build_selection(**case['input'])
        return
    selection = build_selection(**case['input'])
    for key, value in case['expect'].items():
        assert selection[key] == value, key


def _win_updates_would_select(update, selection):
    """Mirror win_updates' filter: categories compared case-insensitively, lists as unanchored regexes."""
    targets = [update['title'], update['kb']]

    def matches(patterns):
        return any(re.search(p, t, re.I) for p in patterns for t in targets)

    cats = selection['category_names']
    if '*' not in cats and not any(c.lower() == u.lower() for c in cats for u in update['categories']):
        return False
    if selection['accept_list'] and not matches(selection['accept_list']):
        return False
    if selection['reject_list'] and matches(selection['reject_list']):
        return False
    return not (selection['skip_optional'] and update.get('browse_only'))


@pytest.mark.parametrize('case', FILTERING['cases'], ids=[c['id'] for c in FILTERING['cases']])
def test_baseline_filtering(case):
    selection = build_selection(**case['input'])
    selected = [u['kb'] for u in FILTERING['offered'] if _win_updates_would_select(u, selection)]
    assert selected == case['selected']


def test_an_unanchored_kb_would_have_matched_the_longer_number():
    """The reason the selection anchors KB patterns: the raw value is a prefix match in win_updates."""
    assert re.search('KB503443', 'KB5034439', re.I)
    assert not re.search(build_selection(['*'], baseline_kbs=['KB503443'])['accept_list'][0], 'KB5034439', re.I)


@pytest.mark.parametrize('case', ROUNDS, ids=[c['id'] for c in ROUNDS])
def test_rounds(case):
    state = advance(None, 'start', policy=case.get('policy'))
    for number, step in enumerate(case['steps'], 1):
        state = advance(state, step['event'], step['result'])
        for key, value in step['expect'].items():
            if key == 'reason':
                assert state['reason'] and re.search(value, state['reason']), 'step %d: %r' % (number, state['reason'])
            else:
                assert state[key] == value, 'step %d: %s is %r' % (number, key, state[key])
    # Every KB the run saw has a readable outcome row.
    assert sorted(r['kb'] for r in state['outcomes']) == sorted(state['kbs'])


def test_failed_rows_carry_the_hresult():
    state = advance(None, 'start', policy={'max_retries': 0})
    state = advance(state, 'updates', {'updates': {'u': {'kb': ['5034439'], 'installed': False,
                                                         'failure_hresult_code': 0x80070643}}})
    row = state['outcomes'][0]
    assert row['kb'] == 'KB5034439' and row['outcome'] == 'failed' and row['hresult'] == '0x80070643'
    assert 'ERROR_INSTALL_FAILURE' in row['detail'] and state['status'] == 'failed'


def test_done_is_final():
    state = advance(None, 'start')
    state = advance(state, 'updates', {'updates': {}})
    assert advance(state, 'updates', {'updates': {'u': {'kb': ['5034439'], 'installed': True}}}) == state


@pytest.mark.parametrize('value,text,policy', [
    (0x80240022, '0x80240022 WU_E_ALL_UPDATES_FAILED: every update in the batch failed', 'reboot'),
    (-2146498270, '0x800F0922 CBS_E_INSTALLERS_FAILED', 'reboot'),
    ('0x80070643', '0x80070643 ERROR_INSTALL_FAILURE', 'retry'),
    ('2149851149', '0x8024200D WU_E_UH_NEEDANOTHERDOWNLOAD', 'retry'),
    (0x80070070, '0x80070070 ERROR_DISK_FULL', 'stop'),
    (0x87654321, '0x87654321 no description known', 'retry'),
    (None, 'unknown error', 'retry'),
])
def test_hresults(value, text, policy):
    assert describe_hresult(value).startswith(text)
    assert hresult_policy(value) == policy


@pytest.mark.parametrize('value', ['KB12', 'Q5034439', '', None, True, 'KB5034439x'])
def test_not_a_kb(value):
    with pytest.raises(SelectionError, match='^where: '):
        normalize_kb(value, 'where')


@pytest.mark.parametrize('event,result,match', [
    ('updates', None, 'needs the registered task result'),
    ('bogus', {}, 'unknown event'),
])
def test_bad_events(event, result, match):
    with pytest.raises(ValueError, match=match):
        advance(advance(None, 'start'), event, result)


def test_event_before_start():
    with pytest.raises(ValueError, match='before start'):
        advance({}, 'updates', {})


def test_actions_and_exclude_patterns_for_the_evidence():
    state = advance(None, 'start', policy={'max_retries': 0})
    state = advance(state, 'updates', {'reboot_required': True, 'updates': {
        'a': {'kb': ['5034439'], 'installed': True},
        'b': {'kb': ['5034441'], 'installed': False, 'failure_hresult_code': 0x80070643}}})
    state = advance(state, 'reboot', {'rebooted': True})
    assert state['actions'] == ['update round 1: installed KB5034439; failed KB5034441',
                                'reboot after update round 1']
    assert state['exclude_patterns'] == ['^KB5034441$']
