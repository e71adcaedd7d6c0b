#!/usr/bin/python
# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: kev_exposure
short_description: Join KEV CVEs to hosts through advisory data, with the fix and the SLA clock
version_added: 0.1.0
author: healthit.patching contributors (@healthit)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
description:
  - Decides, for each host and each KEV CVE, whether the host is exposed, why, and what fixes it,
    from the host facts given in O(hosts) and advisory data per platform family.
    Debian and Ubuntu hosts - the Debian security tracker JSON (O(debian_tracker)), the installed
    binary packages and their source packages, Debian version ordering.
    RPM hosts - updateinfo/OVAL-like data with fixed C(epoch:version-release) (O(rpm_advisories)), RPM ordering.
    Windows hosts - CVE to fixing KBs per product with supersedence (O(msrc_advisories)), installed KBs.
    Network devices - affected trains and first fixed releases (O(firmware_advisories)), the running version.
  - A host whose platform has no advisory source, or whose facts or data leave the answer open
    (no release codename, tracker status C(undetermined), an unparseable installed version), is
    reported with C(unknown=true) and the reason; doubt is never reported as "not exposed" alone.
  - The SLA deadline is the earlier of the end (23:59:59 UTC) of the entry's own C(dueDate) and
    the time the exposure was first identified plus the policy hours of the host's criticality.
    The KEV due date is used as published, also when it precedes C(dateAdded).
  - With O(state_dir), the emergency response history is kept there (C(kev_history/<CVE>.jsonl),
    append-only) - the first identification time (so the clock does not restart on every run),
    C(patched)/C(patch_failed) from O(patch_results), and C(verified) with SLA met or missed when
    a host that was exposed no longer is, judged from fresh facts.
  - Call it once on C(localhost) with the facts of all hosts; paths are on that host.
requirements:
  - jsonschema (Python library) on the host that runs the module, to validate the catalog.
options:
  catalog_path:
    description:
      - Path of a KEV catalog file, validated as by M(healthit.patching.kev_catalog) (use its
        RV(healthit.patching.kev_catalog#module:catalog_path)).
    type: path
  catalog:
    description:
      - The catalog as data - the whole catalog object, or a list of entries (for example
        RV(healthit.patching.kev_catalog#module:entries)). Validated against the KEV schema.
    type: raw
  cve_ids:
    description:
      - CVE IDs to evaluate. Each must be in the catalog (an unknown ID fails the task).
        Empty means every entry of the catalog.
    type: list
    elements: str
    default: []
  hosts:
    description:
      - Host name to facts, for example a subset of C(hostvars). Each key is read from the host's
        mapping, then from its C(ansible_facts), with or without the C(ansible_) prefix.
      - C(family) (V(debian), V(rpm), V(windows), V(ios), V(iosxe), V(nxos), V(junos), V(bmc)), else
        C(os_family)/C(distribution), C(firmware.platform) or C(platform) (also C(patch_platform)).
      - C(release) - Debian/Ubuntu codename (C(distribution_release) is read too); for RedHat
        family hosts C(el) plus C(distribution_major_version), for example C(el9).
      - C(criticality) (also C(patch_criticality)) - a key of O(policy_hours).
      - C(packages) - name to version string, to a mapping with C(version), C(source) (the source
        package; the binary name is assumed when absent) and C(source_version), or to a
        C(package_facts) list (whose C(source) is the package manager and is ignored); RPM
        lists combine C(epoch), C(version) and C(release).
      - C(dpkg_query) - output of C(dpkg-query -W -f='${binary:Package}\t${Version}\t${source:Package}\t${source:Version}\n'),
        which carries the source package and version the tracker needs; it wins over C(packages).
      - C(rpm_query) - output of C(rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n').
      - C(kbs) and C(products) (or C(product)) for Windows.
      - C(firmware) - mapping with C(platform) and C(version) for network devices, else
        C(network_os) and C(net_version) as C(*_facts) modules of network collections set them.
    type: dict
    required: true
  debian_tracker:
    description:
      - With O(cve_ids), only the records of those CVEs are read and checked in every advisory source.
      - Debian security tracker JSON - a path, the data, or a list of them (merged). Format in the
        collection's C(tests/data/advisories/README.md) and the tracker's C(/tracker/data/json).
    type: raw
  rpm_advisories:
    description:
      - "RPM advisory data, C({CVE: [{package, fixed_version, release, advisory}]}), as a path, the
        data, or a list of them."
      - C(fixed_version) is C([epoch:]version-release); C(release) is matched against the host's C(release).
    type: raw
  msrc_advisories:
    description:
      - "MSRC-like data, C({cves: {CVE: {product: [KB]}}, supersedes: {KB: [older KBs]}}), as a path,
        the data, or a list of them."
      - A host is not exposed when a listed KB, or an update that supersedes one (transitively), is installed.
    type: raw
  firmware_advisories:
    description:
      - "Firmware advisory data, C({CVE: {ios|iosxe|nxos|junos|bmc: [{train, first_fixed}]}}), as a path,
        the data, or a list of them."
      - C(train) as the collection computes it (C(15.2E) for 15.2(7)E3, C(17.9) for 17.9.4a, C(21.4) for 21.4R3-S5,
        C(13) for a server BMC's 13.4.0); C(first_fixed) null means the train is affected and has no fix.
      - V(bmc) is a server's BMC (Redfish Manager C(FirmwareVersion)); hosts of platform V(redfish) are of that family.
    type: raw
  policy_hours:
    description: Hours allowed from identification, per criticality.
    type: dict
    default:
      clinical_critical: 24
      business: 48
      low: 72
  default_policy_hours:
    description: Hours allowed for a host without a criticality.
    type: int
    default: 72
  state_dir:
    description:
      - Directory of the patch programme's state; the history goes to its C(kev_history/).
        Defaults to E(HEALTHIT_PATCH_STATE_DIR) of the module's environment. Without it no history is kept.
    type: path
  record_history:
    description: Set to V(false) to read the history (for the clock) without appending to it.
    type: bool
    default: true
  patch_results:
    description:
      - Host name to the C(patch_result) fact the platform role set, recorded as C(patched)
        (status C(patched)/C(current)) or C(patch_failed) for hosts with an open exposure.
    type: dict
    default: {}
  include_unaffected:
    description: Also list host/CVE pairs that are neither exposed nor unknown in RV(exposures).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: The history is not written; RV(history_events) lists what would be appended.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Which hosts are exposed to this emergency CVE, and what fixes them
  healthit.patching.kev_exposure:
    catalog_path: "{{ kev.catalog_path }}"
    cve_ids: "{{ kev_ids }}"
    debian_tracker: /srv/advisories/debian-tracker.json
    firmware_advisories: /srv/advisories/firmware.json
    hosts: >-
      {{ dict(groups['all'] | map('extract', hostvars) | map(attribute='inventory_hostname')
         | zip(groups['all'] | map('extract', hostvars) | map(attribute='kev_facts', default={}))) }}
  delegate_to: localhost
  run_once: true
  register: exposure

- name: Patch just the exposed hosts with just the fixed versions
  ansible.builtin.include_role:
    name: healthit.patching.linux_patch
  vars:
    linux_patch_baseline: "{{ exposure.by_host[inventory_hostname].packages }}"
    linux_patch_use_baseline: true
  when: exposure.by_host[inventory_hostname].packages | length > 0

- name: Record the outcome; fresh facts verify the fix and close the SLA clock
  healthit.patching.kev_exposure:
    catalog_path: "{{ kev.catalog_path }}"
    cve_ids: "{{ kev_ids }}"
    debian_tracker: /srv/advisories/debian-tracker.json
    hosts: "{{ refreshed_facts }}"
    patch_results: "{{ patch_results_by_host }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
exposures:
  description: One record per host and CVE.
  returned: success
  type: list
  elements: dict
  contains:
    host:
      description: Host name.
      type: str
    cve:
      description: CVE ID.
      type: str
    family:
      description: Platform family the host was matched as (null when the facts did not tell).
      type: str
    exposed:
      description: Whether the host is exposed.
      type: bool
    unknown:
      description: The answer is in doubt (no advisory source, no record for the release, ...).
      type: bool
    reason:
      description: Why, in words (versions, release, advisory).
      type: str
    fix:
      description:
        - What fixes it, null when not exposed or when no fix exists yet.
        - "C({type: package, packages: {name: version}, release}), C({type: kb, kbs, accepted_kbs})
          or C({type: image, platform, train, version})."
      type: dict
    installed:
      description: The installed versions, KBs or running firmware the decision was made on.
      type: dict
    kev:
      description: The KEV entry's identifying fields, C(dateAdded) and C(dueDate).
      type: dict
    due_date:
      description: The entry's own C(dueDate).
      type: str
    identified:
      description: When the exposure was first identified (exposed records only).
      type: str
    deadline:
      description: SLA deadline, UTC (exposed records only).
      type: str
    deadline_source:
      description: V(kev_due_date) or V(policy), whichever came first.
      type: str
    sla_status:
      description: V(open) or V(overdue) at the time of this run.
      type: str
by_host:
  description:
    - Host name to what the emergency playbook needs - C(exposed) and C(unknown) CVE lists,
      C(packages) (name to the highest fixed version over its CVEs), C(kbs), C(image), C(no_fix)
      (exposed CVEs without a fix) and C(earliest_deadline).
  returned: success
  type: dict
summary:
  description: Counts, exposed hosts, hosts with unknowns, evaluation time.
  returned: success
  type: dict
catalog_version:
  description: C(catalogVersion) of the catalog used (null for a bare list of entries).
  returned: success
  type: str
catalog_sha256:
  description: SHA-256 of the catalog file used (only with O(catalog_path)).
  returned: success
  type: str
history_dir:
  description: Directory of the response history, null when none is kept.
  returned: success
  type: str
history_events:
  description: Events appended to the history by this run (would be, in check mode).
  returned: success
  type: list
  elements: dict
history:
  description: Latest episode per host and CVE touched by this run (identified, patched, verified, sla).
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.healthit.patching.plugins.module_utils import _kev
from ansible_collections.healthit.patching.plugins.module_utils._response_history import exposure_run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            catalog_path=dict(type='path'),
            catalog=dict(type='raw'),
            cve_ids=dict(type='list', elements='str', default=[]),
            hosts=dict(type='dict', required=True),
            debian_tracker=dict(type='raw'),
            rpm_advisories=dict(type='raw'),
            msrc_advisories=dict(type='raw'),
            firmware_advisories=dict(type='raw'),
            policy_hours=dict(type='dict', default={'clinical_critical': 24, 'business': 48, 'low': 72}),
            default_policy_hours=dict(type='int', default=72),
            state_dir=dict(type='path', fallback=(env_fallback, ['HEALTHIT_PATCH_STATE_DIR'])),
            record_history=dict(type='bool', default=True),
            patch_results=dict(type='dict', default={}),
            include_unaffected=dict(type='bool', default=True),
        ),
        mutually_exclusive=[('catalog_path', 'catalog')],
        required_one_of=[('catalog_path', 'catalog')],
        supports_check_mode=True,
    )
    if _kev.jsonschema is None:
        module.fail_json(msg=missing_required_lib('jsonschema'), exception=_kev.JSONSCHEMA_IMPORT_ERROR)
    try:
        result = exposure_run(module.params, check_mode=module.check_mode)
    except _kev.KevError as e:
        module.fail_json(msg=str(e), error=e.as_dict())
    except ValueError as e:
        module.fail_json(msg=str(e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
