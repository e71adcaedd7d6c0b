# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows for healthit.patching contract tests. Never installed for users.
# What every module of the double has in common: how it runs and who wrote it.

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
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
notes:
- The module file holds only this documentation. Its action plugin does the work and validates the task's arguments
  against the options documented here.
- Examples and return values are those of the real module (see the ansible.windows documentation); how the double
  is used is in tests/contract/windows/README.md.
author:
- healthit.patching contributors
"""
