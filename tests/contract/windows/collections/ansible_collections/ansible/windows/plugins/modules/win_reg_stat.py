# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_reg_stat for healthit.patching contract tests. Never installed for users.
# Documentation only, as the real win_reboot: the behaviour is the action plugin of the same name, which reads
# its argument spec from the options below (plugin_utils/_double.py). The options mirror the real module's
# (tests/contract/windows/test_double_argspec.py keeps them in step).

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
extends_documentation_fragment:
- ansible.windows.contract_double
"""
