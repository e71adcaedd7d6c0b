# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.setup for healthit.patching contract tests. Never installed for users.
# The behaviour is the action plugin of the same name; this file holds the documentation and the argument spec,
# which mirror the real module's options (tests/contract/windows/test_double_argspec.py keeps them in step).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: setup
short_description: Windows facts from the scenario (CONTRACT DOUBLE)
description:
- 'B(CONTRACT DOUBLE) for healthit.patching contract tests: never installed for users and no coverage of Windows.'
- Returns the scenario facts in the real fact names (C(ansible_os_family), C(ansible_os_product_type), C(ansible_distribution)
  ...).
options:
  gather_subset:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: list
    default: all
    elements: str
  gather_timeout:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: int
    default: 10
  fact_path:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: path
  _measure_subset:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: bool
    default: false
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
    '_measure_subset': {
        'default': False,
        'type': 'bool',
    },
    'fact_path': {
        'type': 'path',
    },
    'gather_subset': {
        'default': 'all',
        'elements': 'str',
        'type': 'list',
    },
    'gather_timeout': {
        'default': 10,
        'type': 'int',
    },
}


def main():
    from ansible.module_utils.basic import AnsibleModule
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg='CONTRACT DOUBLE: ansible.windows.setup only runs through its action plugin in '
                         'healthit.patching contract tests')


if __name__ == '__main__':
    main()
