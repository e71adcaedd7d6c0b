# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_service for healthit.patching contract tests. Never installed for users.
# Documentation only, as the real win_reboot: the behaviour is the action plugin of the same name, which reads
# its argument spec from the options below (plugin_utils/_double.py). The options mirror the real module's
# (tests/contract/windows/test_double_argspec.py keeps them in step).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: win_service
short_description: Start, stop or restart a scenario service (CONTRACT DOUBLE)
description:
- 'B(CONTRACT DOUBLE) for healthit.patching contract tests: never installed for users and no coverage of Windows.'
- Changes the state and start mode of a service in the host state file. Options that create or reconfigure services
  are not emulated and fail when set.
options:
  dependencies:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    elements: str
  dependency_action:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    default: set
    choices:
    - add
    - remove
    - set
  desktop_interact:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: bool
    default: false
  description:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  display_name:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  error_control:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    choices:
    - critical
    - ignore
    - normal
    - severe
  failure_actions:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    elements: dict
    suboptions:
      delay_ms:
        description:
        - Same option as the real module; see the ansible.windows documentation.
        type: raw
        default: 0
        aliases:
        - delay
      type:
        description:
        - Same option as the real module; see the ansible.windows documentation.
        type: str
        choices:
        - none
        - reboot
        - restart
        - run_command
        required: true
  failure_actions_on_non_crash_failure:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: bool
  failure_command:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  failure_reboot_msg:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  failure_reset_period_sec:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: raw
    aliases:
    - failure_reset_period
  force_dependent_services:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: bool
    default: false
  load_order_group:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  name:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    required: true
  path:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  password:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  pre_shutdown_timeout_ms:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: raw
    aliases:
    - pre_shutdown_timeout
  required_privileges:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    elements: str
  service_type:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    choices:
    - user_own_process
    - user_share_process
    - win32_own_process
    - win32_share_process
  sid_info:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    choices:
    - none
    - restricted
    - unrestricted
  start_mode:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    choices:
    - auto
    - delayed
    - disabled
    - manual
  state:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    choices:
    - absent
    - paused
    - started
    - stopped
    - restarted
  update_password:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    choices:
    - always
    - on_create
  username:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
extends_documentation_fragment:
- ansible.windows.contract_double
"""
