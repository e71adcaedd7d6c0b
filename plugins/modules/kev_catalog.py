#!/usr/bin/python
# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: kev_catalog
short_description: Load and validate the CISA Known Exploited Vulnerabilities catalog
version_added: 0.1.0
author: healthit.patching contributors (@healthit)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
description:
  - Reads the CISA KEV catalog from a file (O(src)) or a URL (O(url)), validates it against the
    catalog's published JSON schema (embedded in the collection, or O(schema_path)), checks that
    C(count) equals the number of entries, that dates are dates and that no CVE appears twice, and
    records C(catalogVersion), C(dateReleased) and the SHA-256 of the bytes read.
  - A valid catalog is kept as the last-known-good copy at O(lkg_path). A truncated or invalid
    catalog is refused with an error naming the source, the line and the field; with
    O(use_last_known_good=true) the last-known-good copy is used instead (validated again) and
    RV(used_last_known_good) and RV(last_known_good_reason) say so.
  - Reports what changed against the previous catalog (the last-known-good copy as it was before
    this run, or O(previous_path)) - new entries, removed entries, changed due dates with the
    shortened ones flagged. Due dates are always the catalog's own, never computed.
  - Paths are on the host the module runs on. Run it on C(localhost) (the controller) with
    C(delegate_to) or in a play on C(localhost).
requirements:
  - jsonschema (Python library) on the host that runs the module. For C(localhost) this is the
    Python that runs Ansible; the module fails with a clear message when it is missing.
options:
  src:
    description: Path of a catalog file (C(known_exploited_vulnerabilities.json)).
    type: path
  url:
    description:
      - URL to fetch the catalog from. The lab serves it on C(127.0.0.1).
      - A failed fetch is handled like an invalid catalog (see O(use_last_known_good)).
    type: str
  url_timeout:
    description: Seconds to wait for O(url).
    type: int
    default: 30
  validate_certs:
    description: Verify the TLS certificate of O(url).
    type: bool
    default: true
  schema_path:
    description:
      - JSON schema to validate against instead of the embedded copy of CISA's schema.
    type: path
  lkg_path:
    description:
      - Where the last-known-good copy is kept (for example under E(HEALTHIT_PATCH_STATE_DIR)).
      - Written (atomically, mode C(0640)) only with a catalog that passed every check.
    type: path
  use_last_known_good:
    description:
      - When the catalog read is invalid, truncated or cannot be fetched, use the copy at
        O(lkg_path) instead of failing. The reason is returned and must reach the evidence.
    type: bool
    default: false
  previous_path:
    description:
      - Catalog to compare with. Defaults to the last-known-good copy before this run, so
        RV(changes.new) lists what is new since the last successful run.
    type: path
  cve_ids:
    description:
      - Return the entries of these CVE IDs in RV(entries) (those missing from the catalog are in
        RV(missing_cve_ids)).
    type: list
    elements: str
    default: []
  entries:
    description:
      - Which entries to return in RV(entries) besides O(cve_ids).
      - V(new) returns the entries new since the previous catalog, V(all) every entry, V(none) none.
    type: str
    choices: [none, new, all]
    default: new
attributes:
  check_mode:
    support: full
    details: In check mode the last-known-good copy is not written; C(changed) says whether it would be.
  diff_mode:
    support: full
    details: Shows the catalog version and SHA-256 before and after.
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Load the KEV catalog, falling back to the last good copy if the feed is broken
  healthit.patching.kev_catalog:
    url: http://127.0.0.1:8089/known_exploited_vulnerabilities.json
    lkg_path: "{{ lookup('ansible.builtin.env', 'HEALTHIT_PATCH_STATE_DIR') }}/kev/last-known-good.json"
    use_last_known_good: true
  delegate_to: localhost
  run_once: true
  register: kev

- name: Say loudly when the last-known-good copy was used
  ansible.builtin.debug:
    msg: "KEV feed refused ({{ kev.last_known_good_reason }}); using {{ kev.catalog_version }}"
  when: kev.used_last_known_good

- name: Entries for the CVEs of this emergency, from a file
  healthit.patching.kev_catalog:
    src: /srv/kev/known_exploited_vulnerabilities.json
    cve_ids: [CVE-2021-44228]
    entries: none
  delegate_to: localhost
  run_once: true
  register: kev_one
"""

RETURN = r"""
catalog_version:
  description: C(catalogVersion) of the catalog in use.
  returned: success
  type: str
  sample: "2025.08.25"
date_released:
  description: C(dateReleased) of the catalog in use.
  returned: success
  type: str
  sample: "2025-08-25T17:04:19.9796Z"
count:
  description: Number of entries (equal to the catalog's C(count), which was checked).
  returned: success
  type: int
  sample: 1404
sha256:
  description: SHA-256 of the bytes of the catalog in use.
  returned: success
  type: str
  sample: 901b1f227941a3879a3e39fcb857bb6f7252bf9d71b63ef08d50a836d5ab1bd2
source:
  description: Where the catalog in use was read from (O(src), O(url) or O(lkg_path)).
  returned: success
  type: str
catalog_path:
  description:
    - A file holding exactly the validated catalog in use, for M(healthit.patching.kev_exposure)
      (O(lkg_path) when set, else O(src)); null when only a URL was read and no O(lkg_path) is set.
  returned: success
  type: str
used_last_known_good:
  description: Whether the last-known-good copy was used because the catalog read was refused.
  returned: success
  type: bool
last_known_good_reason:
  description: Why the catalog read was refused, when the last-known-good copy was used.
  returned: success
  type: str
error:
  description: The refusal as data (message, source, line, column, field) when the LKG copy was used.
  returned: success
  type: dict
lkg_updated:
  description: Whether the last-known-good copy was (or in check mode would be) replaced.
  returned: success
  type: bool
lkg_problem:
  description: Why the previous last-known-good copy was unusable (it was then replaced).
  returned: success
  type: str
due_before_added:
  description: CVE IDs whose C(dueDate) precedes C(dateAdded) (their due date is used as published).
  returned: success
  type: list
  elements: str
changes:
  description: Differences against the previous catalog; null when there was none to compare with.
  returned: success
  type: dict
  contains:
    previous_version:
      description: C(catalogVersion) of the previous catalog.
      type: str
    previous_sha256:
      description: SHA-256 of the previous catalog.
      type: str
    new:
      description: CVE IDs added since the previous catalog.
      type: list
      elements: str
    removed:
      description: CVE IDs no longer in the catalog.
      type: list
      elements: str
    due_date_changed:
      description: Entries whose C(dueDate) changed, with C(previous), C(current) and C(shortened).
      type: list
      elements: dict
    due_date_shortened:
      description: CVE IDs whose C(dueDate) moved earlier.
      type: list
      elements: str
    ransomware_use_changed:
      description: Entries whose C(knownRansomwareCampaignUse) changed.
      type: list
      elements: dict
entries:
  description: The selected catalog entries, unmodified (see O(entries) and O(cve_ids)).
  returned: success
  type: list
  elements: dict
missing_cve_ids:
  description: CVE IDs of O(cve_ids) that are not in the catalog.
  returned: success
  type: list
  elements: str
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.urls import fetch_url

from ansible_collections.healthit.patching.plugins.module_utils import _kev


def _fetch(module):
    p = module.params
    if p['src']:
        try:
            return _kev.read_file_bytes(p['src'], 'catalog'), p['src'], None
        except _kev.KevError as e:
            return None, p['src'], str(e)
    resp, info = fetch_url(module, p['url'], timeout=p['url_timeout'], force=True)
    if resp is None or info.get('status') != 200:
        return None, p['url'], 'fetch failed: HTTP %s %s' % (info.get('status'), info.get('msg'))
    return resp.read(), p['url'], None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type='path'),
            url=dict(type='str'),
            url_timeout=dict(type='int', default=30),
            validate_certs=dict(type='bool', default=True),
            schema_path=dict(type='path'),
            lkg_path=dict(type='path'),
            use_last_known_good=dict(type='bool', default=False),
            previous_path=dict(type='path'),
            cve_ids=dict(type='list', elements='str', default=[]),
            entries=dict(type='str', choices=['none', 'new', 'all'], default='new'),
        ),
        mutually_exclusive=[('src', 'url')],
        required_one_of=[('src', 'url')],
        supports_check_mode=True,
    )
    if _kev.jsonschema is None:
        module.fail_json(msg=missing_required_lib('jsonschema'), exception=_kev.JSONSCHEMA_IMPORT_ERROR)
    p = module.params
    try:
        schema = None
        if p['schema_path']:
            schema = _kev.parse_json_text(_kev.read_file_bytes(p['schema_path'], 'schema'), p['schema_path'])[0]
        previous = None
        if p['previous_path']:
            previous = (p['previous_path'], _kev.read_file_bytes(p['previous_path'], 'previous catalog'))
        data, source, fetch_error = _fetch(module)
        loaded = _kev.load_catalog(data, source, lkg_path=p['lkg_path'],
                                   use_last_known_good=p['use_last_known_good'], previous=previous,
                                   schema=schema, fetch_error=fetch_error, write=not module.check_mode)
        result = _kev.catalog_result(loaded, p['cve_ids'], p['entries'], p['lkg_path'], p['src'],
                                     module.check_mode)
    except _kev.KevError as e:
        module.fail_json(msg=str(e), error=e.as_dict())
    if module._diff:
        result['diff'] = _kev.catalog_diff_view(loaded, p['lkg_path'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
