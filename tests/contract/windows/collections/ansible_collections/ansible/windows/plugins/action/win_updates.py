# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_updates for healthit.patching contract tests. Never installed for users.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.ansible.windows.plugins.plugin_utils._double import DoubleAction


class ActionModule(DoubleAction):
    MODULE = 'win_updates'
