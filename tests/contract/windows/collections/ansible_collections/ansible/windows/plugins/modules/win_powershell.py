# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_powershell for healthit.patching contract tests. Never installed for users.
# Documentation only, as the real win_reboot: the behaviour is the action plugin of the same name, which reads
# its argument spec from the options below (plugin_utils/_double.py). The options mirror the real module's
# (tests/contract/windows/test_double_argspec.py keeps them in step).

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
extends_documentation_fragment:
- ansible.windows.contract_double
"""
