# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.setup for healthit.patching contract tests. Never installed for users.
# Documentation only, as the real win_reboot: the behaviour is the action plugin of the same name, which reads
# its argument spec from the options below (plugin_utils/_double.py). The options mirror the real module's
# (tests/contract/windows/test_double_argspec.py keeps them in step).

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
extends_documentation_fragment:
- ansible.windows.contract_double
"""
