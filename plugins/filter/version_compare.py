# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter version_compare: documentation is in version_compare.yml beside this file."""

from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.module_utils._versions import compare


def version_compare(version, other, scheme='generic'):
    try:
        return compare(version, other, scheme)
    except ValueError as e:
        raise AnsibleFilterError('version_compare: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'version_compare': version_compare}
