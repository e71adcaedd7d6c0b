# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_updates for healthit.patching contract tests. Never installed for users.
# Documentation only, as the real win_reboot: the behaviour is the action plugin of the same name, which reads
# its argument spec from the options below (plugin_utils/_double.py). The options mirror the real module's
# (tests/contract/windows/test_double_argspec.py keeps them in step).

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
extends_documentation_fragment:
- ansible.windows.contract_double
"""
