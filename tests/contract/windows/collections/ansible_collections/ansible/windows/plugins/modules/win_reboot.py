# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_reboot for healthit.patching contract tests. Never installed for users.
# Documentation only, as the real win_reboot: the behaviour is the action plugin of the same name, which reads
# its argument spec from the options below (plugin_utils/_double.py). The options mirror the real module's
# (tests/contract/windows/test_double_argspec.py keeps them in step).

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
extends_documentation_fragment:
- ansible.windows.contract_double
"""
