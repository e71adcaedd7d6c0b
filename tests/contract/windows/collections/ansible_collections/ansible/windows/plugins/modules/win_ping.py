# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_ping for healthit.patching contract tests. Never installed for users.
# Documentation only, as the real win_reboot: the behaviour is the action plugin of the same name, which reads
# its argument spec from the options below (plugin_utils/_double.py). The options mirror the real module's
# (tests/contract/windows/test_double_argspec.py keeps them in step).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: win_ping
short_description: Reachability of a scenario host (CONTRACT DOUBLE)
description:
- 'B(CONTRACT DOUBLE) for healthit.patching contract tests: never installed for users and no coverage of Windows.'
- Returns O(data) as C(ping), or unreachable when the scenario says the host is unreachable.
options:
  data:
    description:
    - Same option as the real module; see the ansible.windows documentation.
    type: str
    default: pong
extends_documentation_fragment:
- ansible.windows.contract_double
"""
