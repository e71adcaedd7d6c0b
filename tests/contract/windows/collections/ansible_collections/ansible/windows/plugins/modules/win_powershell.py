# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_powershell for healthit.patching contract tests. Never installed for users.
# The behaviour is the action plugin of the same name; this file holds the documentation and the argument spec,
# which mirror the real module's options (tests/contract/windows/test_double_argspec.py keeps them in step).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: win_powershell
short_description: Known probe scripts answered from the scenario (CONTRACT DOUBLE)
description:
- 'B(CONTRACT DOUBLE) for healthit.patching contract tests: never installed for users and no coverage of Windows.'
- 'Cannot run PowerShell. Recognises scripts whose first line is C(# healthit.patching probe: NAME) and returns
  the probe output from the host state; any other script fails.'
options:
  arguments:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    elements: str
  chdir:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  creates:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  depth:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: int
    default: 2
  error_action:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    default: continue
    choices:
    - silently_continue
    - continue
    - stop
  executable:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  parameters:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: dict
  path:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  remote_src:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: bool
    default: false
  removes:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  script:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
  sensitive_parameters:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    elements: dict
    suboptions:
      name:
        description:
        - Same option as the real module; see the ansible.windows documentation.
        type: str
        required: true
      value:
        description:
        - Same option as the real module; see the ansible.windows documentation.
        type: str
      username:
        description:
        - Same option as the real module; see the ansible.windows documentation.
        type: str
      password:
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
    'arguments': {
        'elements': 'str',
        'type': 'list',
    },
    'chdir': {
        'type': 'str',
    },
    'creates': {
        'type': 'str',
    },
    'depth': {
        'default': 2,
        'type': 'int',
    },
    'error_action': {
        'choices': ['silently_continue', 'continue', 'stop'],
        'default': 'continue',
        'type': 'str',
    },
    'executable': {
        'type': 'str',
    },
    'parameters': {
        'type': 'dict',
    },
    'path': {
        'type': 'str',
    },
    'remote_src': {
        'default': False,
        'type': 'bool',
    },
    'removes': {
        'type': 'str',
    },
    'script': {
        'type': 'str',
    },
    'sensitive_parameters': {
        'elements': 'dict',
        'options': {
            'name': {
                'required': True,
                'type': 'str',
            },
            'password': {
                'type': 'str',
            },
            'username': {
                'type': 'str',
            },
            'value': {
                'type': 'str',
            },
        },
        'type': 'list',
    },
}


def main():
    from ansible.module_utils.basic import AnsibleModule
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg='CONTRACT DOUBLE: ansible.windows.win_powershell only runs through its action plugin in '
                         'healthit.patching contract tests')


if __name__ == '__main__':
    main()
