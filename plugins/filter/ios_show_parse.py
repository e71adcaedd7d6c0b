# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ios_show_parse: documentation is in ios_show_parse.yml beside this file."""

from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.module_utils._firmware import parse


def ios_show_parse(output, kind):
    try:
        return parse(output, kind)
    except ValueError as e:
        raise AnsibleFilterError('ios_show_parse(%s): %s' % (kind, e))


class FilterModule(object):
    def filters(self):
        return {'ios_show_parse': ios_show_parse}
