# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_reg_stat for healthit.patching contract tests. Never installed for users.
# The behaviour is the action plugin of the same name; this file holds the documentation and the argument spec,
# which mirror the real module's options (tests/contract/windows/test_double_argspec.py keeps them in step).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: win_reg_stat
short_description: Registry keys and values from the scenario (CONTRACT DOUBLE)
description:
- 'B(CONTRACT DOUBLE) for healthit.patching contract tests: never installed for users and no coverage of Windows.'
- Reads the registry of the host state file (seeded by the scenario, changed by update installs and reboots).
options:
  path:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    aliases:
    - key
    required: true
  name:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    aliases:
    - entry
    - value
    - property
attributes:
  check_mode:
    support: full
    description: Reports without changing the host state file.
  diff_mode:
    support: none
    description: No diff.
  platform:
    platforms: windows
    description: Stands in for Windows hosts; runs on the controller.
author:
- healthit.patching contributors
"""

EXAMPLES = r"""
# Used only by tests/contract/windows: see tests/contract/windows/README.md.
"""

RETURN = r"""
# The real module's return values; see the ansible.windows documentation.
"""

ARGUMENT_SPEC = {
    'name': {
        'aliases': ['entry', 'value', 'property'],
        'type': 'str',
    },
    'path': {
        'aliases': ['key'],
        'required': True,
        'type': 'str',
    },
}


def main():
    from ansible.module_utils.basic import AnsibleModule
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg='CONTRACT DOUBLE: ansible.windows.win_reg_stat only runs through its action plugin in '
                         'healthit.patching contract tests')


if __name__ == '__main__':
    main()
