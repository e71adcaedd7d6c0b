# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter win_update_rounds: documentation is in win_update_rounds.yml beside this file."""

from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.plugin_utils._kb_selection import advance


def win_update_rounds(state, event, result=None, policy=None):
    try:
        return advance(state, event, result, policy)
    except ValueError as e:
        raise AnsibleFilterError('win_update_rounds: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'win_update_rounds': win_update_rounds}
