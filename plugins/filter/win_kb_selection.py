# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter win_kb_selection: documentation is in win_kb_selection.yml beside this file."""

from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.plugin_utils._kb_selection import SelectionError, build_selection


def win_kb_selection(category_names, accept_list=None, reject_list=None, baseline_kbs=None, require_baseline=False,
                     skip_optional=True):
    try:
        return build_selection(category_names, accept_list, reject_list, baseline_kbs, require_baseline, skip_optional)
    except SelectionError as e:
        raise AnsibleFilterError('win_kb_selection: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'win_kb_selection': win_kb_selection}
