# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter firmware_target: documentation is in firmware_target.yml beside this file."""

from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.module_utils._firmware import CatalogueError, target


def firmware_target(catalogue, platform, model, name='network_firmware_catalogue'):
    try:
        return target(catalogue, platform, model, name)
    except CatalogueError as e:
        raise AnsibleFilterError('firmware_target: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'firmware_target': firmware_target}
