"""The Windows filters are thin: they must give the helper's answers and turn bad input into filter errors."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.filter.win_kb_selection import FilterModule as SelectionFilters
from ansible_collections.healthit.patching.plugins.filter.win_update_rounds import FilterModule as RoundFilters

win_kb_selection = SelectionFilters().filters()['win_kb_selection']
win_update_rounds = RoundFilters().filters()['win_update_rounds']


def test_selection_passes_through():
    selection = win_kb_selection(['SecurityUpdates'], reject_list=['kb5034439'])
    assert selection['category_names'] == ['Security Updates'] and selection['reject_list'] == ['^KB5034439$']


def test_selection_error_is_a_filter_error_naming_the_field():
    with pytest.raises(AnsibleFilterError, match=r"win_kb_selection: windows_patch_accept_list\[0\]"):
        win_kb_selection(['SecurityUpdates'], accept_list=['[broken'])


def test_rounds_pass_through():
    state = win_update_rounds({}, 'start', policy={'max_rounds': 2})
    state = win_update_rounds(state, 'updates', {'updates': {'u': {'kb': ['5034439'], 'installed': True}},
                                                 'reboot_required': True})
    assert state['next'] == 'reboot' and state['rounds'][0]['installed'] == ['KB5034439']


def test_rounds_error_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='win_update_rounds: unknown event'):
        win_update_rounds(win_update_rounds({}, 'start'), 'explode', {})
