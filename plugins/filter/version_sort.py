# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter version_sort: documentation is in version_sort.yml beside this file."""

from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.module_utils._versions import sort_versions


def version_sort(versions, scheme='generic', reverse=False):
    try:
        return sort_versions(versions, scheme, reverse=reverse)
    except (TypeError, ValueError) as e:
        raise AnsibleFilterError('version_sort: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'version_sort': version_sort}
