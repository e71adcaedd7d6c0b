#!/usr/bin/python
# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compliance_report
short_description: Patch compliance report (HTML, CSV, JSON) from verified audit evidence
description:
  - Computes, for a reporting period, estate-wide and per site, owner and platform, the figures that quarterly
    business reviews and HIPAA audits ask for, and writes them as a self-contained HTML page (inline SVG charts,
    no external assets, print stylesheet), CSV tables and one JSON document.
  - "Patch coverage: compliant hosts / hosts in scope. A host is compliant when its latest patch run in the period
    that reached a verdict for it, taken from verified evidence of a completed, non-check-mode run, left it
    V(patched) or V(current) against the newest production baseline for its platform. Unreachable, failed,
    rolled back, skipped, below-baseline and never-reported hosts count as not covered. Hosts under an active
    exception are out of scope and shown apart; hosts whose exception expired are back in scope."
  - "A run without a closing record cannot prove a host compliant; its failed and unreachable results still
    count against the host."
  - Vulnerabilities outstanding (open KEV exposures by time left to their deadline, missing updates by severity
    where known), exception status (active, expiring within the review window, expired) with owner, approval
    and compensating controls and the quarterly review list, the emergency response history per KEV item
    (time from identification to verified remediation, SLA met or missed, median and worst) and the
    month-over-month coverage trend.
  - Every evidence file is verified with the same code as M(healthit.patching.audit_verify). The report embeds
    each file's SHA-256 and whether it verified; a tampered file is listed with the reason and its data is left
    out of every figure. Every figure carries the run ids it was computed from (JSON and CSV).
  - Hosts in scope and hosts under exception come from the C(healthit.patching.patch_inventory) inventory plugin
    (the task refuses another inventory unless O(hosts) is given); the exception register is read with the
    plugin's own fail-closed parser and must be the one the inventory was built from.
  - This module runs on the controller through its action plugin; use it on C(localhost).
version_added: 0.1.0
author:
  - healthit.patching contributors (@healthit)
options:
  report_period:
    description:
      - The period, V(YYYY-MM) (a month), V(YYYY-Qn) (a quarter) or V(YYYY) (a year), in UTC.
      - Mutually exclusive with O(report_from) and O(report_to).
    type: str
  report_from:
    description: First day of the period (V(YYYY-MM-DD), UTC), with O(report_to).
    type: str
  report_to:
    description: Last day of the period, inclusive (V(YYYY-MM-DD), UTC), with O(report_from).
    type: str
  evidence_dir:
    description:
      - Directory of the C(healthit.patching.hipaa_audit) evidence files. Defaults to E(HEALTHIT_AUDIT_DIR).
    type: path
  hmac_key_file:
    description:
      - HMAC key the runs were recorded with; keyed records are then checked against it.
        Defaults to E(HEALTHIT_AUDIT_HMAC_KEY_FILE).
    type: path
  state_dir:
    description:
      - The patch programme's state directory (baselines in C(baselines/), the emergency response history).
        Defaults to E(HEALTHIT_PATCH_STATE_DIR).
    type: path
  exception_register:
    description:
      - The exception register. Defaults to the one the inventory plugin read (C(patch_exception_register_path)).
    type: path
  output_dir:
    description: Directory the report files are written to (created 0750; files 0640).
    type: path
    required: true
  template:
    description: Jinja2 template of the HTML page. Defaults to the one shipped in the C(compliance_report) role.
    type: path
  formats:
    description: Which outputs to write.
    type: list
    elements: str
    choices: [html, csv, json]
    default: [html, csv, json]
  trend_months:
    description: Number of calendar months, ending with the period's last month, in the trend.
    type: int
    default: 12
  review_days:
    description:
      - Exceptions expiring within this many days are listed as expiring and due for review. Defaults to the
        inventory plugin's C(patch_exception_review_days), else 30.
    type: int
  now:
    description:
      - The report's notion of now (RFC 3339, UTC) for ages and open items. Defaults to the current time.
        For reproducing a report.
    type: str
  hosts:
    description:
      - Hosts in scope given explicitly instead of the inventory (dicts with C(name) and optionally C(site),
        C(owner), C(platform), C(wave), C(criticality), C(exception_expired), C(exception_id)).
    type: list
    elements: dict
  excepted_hosts:
    description:
      - With O(hosts), the hosts under an active exception (C(name), C(exception_id), C(owner), C(expires),
        C(compensating_controls)).
    type: list
    elements: dict
attributes:
  check_mode:
    support: full
    description: Computes the figures and returns them, writes no file.
  diff_mode:
    support: none
    description: Writes report files; there is nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller, where the evidence and state are kept.
seealso:
  - module: healthit.patching.audit_verify
  - module: healthit.patching.evidence_bundle
"""

EXAMPLES = r"""
- name: Write the November compliance report
  healthit.patching.compliance_report:
    report_period: 2026-11
    output_dir: /var/lib/healthit/reports/2026-11
  delegate_to: localhost
  run_once: true

- name: A quarter, with the HMAC key the evidence was recorded with
  healthit.patching.compliance_report:
    report_period: 2026-Q4
    hmac_key_file: /etc/healthit/evidence.key
    output_dir: /var/lib/healthit/reports/2026-Q4
  delegate_to: localhost
  run_once: true

# Usually run through the playbook:
# ansible-playbook healthit.patching.compliance_report -e report_period=2026-11
"""

RETURN = r"""
files:
  description: Paths written, by kind (V(html), V(json), V(csv_hosts), V(csv_coverage) ...). Empty in check mode.
  returned: always
  type: dict
output_dir:
  description: Where the files are.
  returned: always
  type: str
period:
  description: The period as label, start and end (end exclusive), RFC 3339 UTC.
  returned: always
  type: dict
  sample: {label: "2026-11", start: "2026-11-01T00:00:00Z", end: "2026-12-01T00:00:00Z"}
coverage:
  description: Estate-wide coverage; C(coverage_pct) is null when no host is in scope.
  returned: always
  type: dict
  sample: {in_scope: 6, compliant: 4, not_covered: 2, excepted: 1, coverage_pct: 66.7}
evidence:
  description: Evidence files that verified and were used, files rejected, runs without a closing record.
  returned: always
  type: dict
rejected_files:
  description: Evidence files that failed verification, with the reason; their data is in no figure.
  returned: always
  type: list
  elements: dict
kev_open:
  description: Open KEV exposures at the end of the period.
  returned: always
  type: int
kev_overdue:
  description: Open KEV exposures past their deadline.
  returned: always
  type: int
exceptions:
  description: Exception counts by status (active, expiring, expired).
  returned: always
  type: dict
emergency:
  description: Emergency response summary (exposures, verified, met, missed, open, median_hours, worst_hours).
  returned: always
  type: dict
msg:
  description: One line summing the report up.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.healthit.patching.plugins.module_utils._compliance import ARGUMENT_SPEC


def main():
    # The work happens on the controller in the action plugin of the same name; reaching this code
    # means the module was shipped to a host without its action plugin.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg='healthit.patching.compliance_report runs on the controller through its action plugin')


if __name__ == '__main__':
    main()
