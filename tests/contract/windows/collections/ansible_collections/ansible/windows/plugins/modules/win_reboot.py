# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_reboot for healthit.patching contract tests. Never installed for users.
# The behaviour is the action plugin of the same name; this file holds the documentation and the argument spec,
# which mirror the real module's options (tests/contract/windows/test_double_argspec.py keeps them in step).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: win_reboot
short_description: Scripted reboot (CONTRACT DOUBLE)
description:
- 'B(CONTRACT DOUBLE) for healthit.patching contract tests: never installed for users and no coverage of Windows.'
- Counts a boot, clears the pending-reboot registry markers, rolls back updates the scenario rolls back at reboot
  and restarts automatic services except those the scenario keeps stopped.
options:
  pre_reboot_delay:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: float
    default: 2
    aliases:
    - pre_reboot_delay_sec
  post_reboot_delay:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: float
    default: 0
    aliases:
    - post_reboot_delay_sec
  reboot_timeout:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: float
    default: 600
    aliases:
    - reboot_timeout_sec
  connect_timeout:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: float
    default: 5
    aliases:
    - connect_timeout_sec
  test_command:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  msg:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    default: Reboot initiated by Ansible
  boot_time_command:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    default: (Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()
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
    'boot_time_command': {
        'default': '(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()',
        'type': 'str',
    },
    'connect_timeout': {
        'aliases': ['connect_timeout_sec'],
        'default': 5,
        'type': 'float',
    },
    'msg': {
        'default': 'Reboot initiated by Ansible',
        'type': 'str',
    },
    'post_reboot_delay': {
        'aliases': ['post_reboot_delay_sec'],
        'default': 0,
        'type': 'float',
    },
    'pre_reboot_delay': {
        'aliases': ['pre_reboot_delay_sec'],
        'default': 2,
        'type': 'float',
    },
    'reboot_timeout': {
        'aliases': ['reboot_timeout_sec'],
        'default': 600,
        'type': 'float',
    },
    'test_command': {
        'type': 'str',
    },
}


def main():
    from ansible.module_utils.basic import AnsibleModule
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg='CONTRACT DOUBLE: ansible.windows.win_reboot only runs through its action plugin in '
                         'healthit.patching contract tests')


if __name__ == '__main__':
    main()
