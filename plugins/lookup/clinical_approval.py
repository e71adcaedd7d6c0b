# -*- coding: utf-8 -*-
# Copyright: (c) 2026, healthit.patching contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: clinical_approval
short_description: Decide from the vendor approval register whether a clinical application version may be installed
version_added: 0.1.0
author: healthit.patching contributors (@healthit)
description:
  - Reads the vendor approval register (YAML, an C(approvals) list) and answers whether the O(version) of
    O(product) is approved for one host today, with the reason either way.
  - Fails closed. A register that cannot be read, a record without C(id), C(vendor), C(product), C(version),
    C(package_sha256), C(vendor_reference), C(approved_by), C(approved_on), C(expires), C(downtime_minutes)
    or C(hosts)/C(groups), an unknown field, a bad date, pattern or checksum, or a duplicate id make the
    answer a refusal whose reason names the file, the line and the field (C(valid=false)).
  - Runs on the controller; the register never leaves it.
options:
  register:
    description: Path of the approval register on the controller.
    type: path
    required: true
  product:
    description: The application (package) name, as in the records' C(product).
    type: str
    required: true
  version:
    description: The exact package version to install, compared as text with the records' C(version) (V(1.1) and V(1.1-0) differ).
    type: str
    required: true
  host:
    description: The inventory host name matched against the records' C(hosts) names and patterns.
    type: str
    required: true
  address:
    description: The host's address, matched against addresses and CIDRs in C(hosts).
    type: str
  groups:
    description: The host's inventory groups, matched against the records' C(groups).
    type: list
    elements: str
    default: []
  today:
    description: The date to judge validity on (YYYY-MM-DD); today's UTC date when not given.
    type: str
  downtime_budget:
    description:
      - Minutes of downtime this run may cause. A record requiring more is refused.
      - Not given means no limit is checked.
    type: int
"""

EXAMPLES = r"""
- name: Is labapp-ehr 1.1 approved for this host?
  ansible.builtin.set_fact:
    approval: >-
      {{ lookup('healthit.patching.clinical_approval', register='approvals.yml', product='labapp-ehr',
                version='1.1', host=inventory_hostname, groups=group_names, downtime_budget=30) }}

- name: Refuse without an approval
  ansible.builtin.assert:
    that: approval.approved
    fail_msg: "{{ approval.reason }}"
"""

RETURN = r"""
_raw:
  description: One decision (a list of one dictionary, as lookups return).
  type: list
  elements: dict
  contains:
    approved:
      description: True only when an active record covers the host, the product and the exact version.
      type: bool
    covered:
      description: True when some record for the product names the host, its address or one of its groups,
        whatever its version, dates or downtime (the register speaks about this host for this product).
        False for an unknown product, a host no record names, and a register that could not be read.
      type: bool
    valid:
      description: False when the register could not be read or validated.
      type: bool
    reason:
      description: Why the version is or is not approved, naming the record or the register error.
      type: str
    approval:
      description: The chosen record (id, vendor, product, version, package_sha256, vendor_reference, approved_by,
        approved_on, expires, downtime_minutes, hosts, groups, change_request, source); null when refused.
      type: dict
    register:
      description: Path of the register read.
      type: str
    register_sha256:
      description: SHA-256 of the register's text, for evidence; null when it could not be read.
      type: str
"""

import datetime

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.healthit.patching.plugins.plugin_utils._approval_register import decide_from_file


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        today = self.get_option("today")
        if today:
            try:
                today = datetime.date.fromisoformat(str(today).strip())
            except ValueError as exc:
                raise AnsibleLookupError("clinical_approval: today=%r is not a date YYYY-MM-DD" % (today,)) from exc
        return [decide_from_file(
            self.get_option("register"), self.get_option("product"), self.get_option("version"),
            self.get_option("host"), groups=self.get_option("groups"), address=self.get_option("address"),
            today=today or None, downtime_budget=self.get_option("downtime_budget"))]
