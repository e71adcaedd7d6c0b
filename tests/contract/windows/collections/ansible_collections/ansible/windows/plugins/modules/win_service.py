# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_service for healthit.patching contract tests. Never installed for users.
# The behaviour is the action plugin of the same name; this file holds the documentation and the argument spec,
# which mirror the real module's options (tests/contract/windows/test_double_argspec.py keeps them in step).

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
    'dependencies': {
        'elements': 'str',
        'type': 'list',
    },
    'dependency_action': {
        'choices': ['add', 'remove', 'set'],
        'default': 'set',
        'type': 'str',
    },
    'description': {
        'type': 'str',
    },
    'desktop_interact': {
        'default': False,
        'type': 'bool',
    },
    'display_name': {
        'type': 'str',
    },
    'error_control': {
        'choices': ['critical', 'ignore', 'normal', 'severe'],
        'type': 'str',
    },
    'failure_actions': {
        'elements': 'dict',
        'options': {
            'delay_ms': {
                'aliases': ['delay'],
                'default': 0,
                'type': 'raw',
            },
            'type': {
                'choices': ['none', 'reboot', 'restart', 'run_command'],
                'required': True,
                'type': 'str',
            },
        },
        'type': 'list',
    },
    'failure_actions_on_non_crash_failure': {
        'type': 'bool',
    },
    'failure_command': {
        'type': 'str',
    },
    'failure_reboot_msg': {
        'type': 'str',
    },
    'failure_reset_period_sec': {
        'aliases': ['failure_reset_period'],
        'type': 'raw',
    },
    'force_dependent_services': {
        'default': False,
        'type': 'bool',
    },
    'load_order_group': {
        'type': 'str',
    },
    'name': {
        'required': True,
        'type': 'str',
    },
    'password': {
        'type': 'str',
    },
    'path': {
        'type': 'str',
    },
    'pre_shutdown_timeout_ms': {
        'aliases': ['pre_shutdown_timeout'],
        'type': 'raw',
    },
    'required_privileges': {
        'elements': 'str',
        'type': 'list',
    },
    'service_type': {
        'choices': ['user_own_process', 'user_share_process', 'win32_own_process', 'win32_share_process'],
        'type': 'str',
    },
    'sid_info': {
        'choices': ['none', 'restricted', 'unrestricted'],
        'type': 'str',
    },
    'start_mode': {
        'choices': ['auto', 'delayed', 'disabled', 'manual'],
        'type': 'str',
    },
    'state': {
        'choices': ['absent', 'paused', 'started', 'stopped', 'restarted'],
        'type': 'str',
    },
    'update_password': {
        'choices': ['always', 'on_create'],
        'type': 'str',
    },
    'username': {
        'type': 'str',
    },
}


def main():
    from ansible.module_utils.basic import AnsibleModule
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg='CONTRACT DOUBLE: ansible.windows.win_service only runs through its action plugin in '
                         'healthit.patching contract tests')


if __name__ == '__main__':
    main()
