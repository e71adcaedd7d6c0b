# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_updates for healthit.patching contract tests. Never installed for users.
# The behaviour is the action plugin of the same name; this file holds the documentation and the argument spec,
# which mirror the real module's options (tests/contract/windows/test_double_argspec.py keeps them in step).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: win_updates
short_description: Scripted Windows Update rounds (CONTRACT DOUBLE)
description:
- 'B(CONTRACT DOUBLE) for healthit.patching contract tests: never installed for users and no coverage of Windows.'
- Searches a scripted catalog and "installs" updates by changing the host state file of the scenario.
- Filters like the real module (category names, accept and reject lists as case-insensitive unanchored regexes,
  optional updates).
- A scenario round may fail updates with HRESULTs, roll updates back at the next reboot, fail the whole task, or
  drop the connection (the task then returns unreachable, as the real action plugin does).
- 'O(reboot=true) is not emulated and fails: the windows_patch role drives its reboots itself.'
options:
  accept_list:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    elements: str
  category_names:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    default:
    - CriticalUpdates
    - SecurityUpdates
    - UpdateRollups
    elements: str
  skip_optional:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: bool
    default: false
  reboot:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: bool
    default: false
  reboot_timeout:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: int
    default: 1200
  server_selection:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    default: default
    choices:
    - default
    - managed_server
    - windows_update
  state:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    default: installed
    choices:
    - installed
    - searched
    - downloaded
  log_path:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: path
  reject_list:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    elements: str
  _operation:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    default: start
    choices:
    - start
    - cancel
    - poll
  _operation_options:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: dict
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
    '_operation': {
        'choices': ['start', 'cancel', 'poll'],
        'default': 'start',
        'type': 'str',
    },
    '_operation_options': {
        'type': 'dict',
    },
    'accept_list': {
        'elements': 'str',
        'type': 'list',
    },
    'category_names': {
        'default': ['CriticalUpdates', 'SecurityUpdates', 'UpdateRollups'],
        'elements': 'str',
        'type': 'list',
    },
    'log_path': {
        'type': 'path',
    },
    'reboot': {
        'default': False,
        'type': 'bool',
    },
    'reboot_timeout': {
        'default': 1200,
        'type': 'int',
    },
    'reject_list': {
        'elements': 'str',
        'type': 'list',
    },
    'server_selection': {
        'choices': ['default', 'managed_server', 'windows_update'],
        'default': 'default',
        'type': 'str',
    },
    'skip_optional': {
        'default': False,
        'type': 'bool',
    },
    'state': {
        'choices': ['installed', 'searched', 'downloaded'],
        'default': 'installed',
        'type': 'str',
    },
}


def main():
    from ansible.module_utils.basic import AnsibleModule
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg='CONTRACT DOUBLE: ansible.windows.win_updates only runs through its action plugin in '
                         'healthit.patching contract tests')


if __name__ == '__main__':
    main()
