#!/usr/bin/python
# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: evidence_bundle
short_description: Pack the audit evidence of a period into a tar.gz for an auditor
description:
  - Selects the C(healthit.patching.hipaa_audit) evidence files whose run started (UTC day, taken from the file
    name) between O(from_date) and O(to_date), verifies each one, and writes a gzip-compressed tar holding
    C(<prefix>/evidence/*.jsonl), C(<prefix>/MANIFEST.json) (SHA-256, size, verification status, run id, first and
    last timestamp of every file, and the period) and C(<prefix>/SHA256SUMS) (for C(sha256sum -c)).
  - The archive is deterministic (members sorted, owner 0/0, fixed modes, every timestamp set to the newest
    evidence file's mtime, no name in the gzip header), so packing the same files again gives the same SHA-256 and
    the module reports no change.
  - Tampered files are still packed (the auditor must see them), but the module then fails naming the first bad
    record, unless O(fail_on_tampered=false).
  - Runs on the controller where the evidence is kept.
version_added: 0.1.0
author:
  - healthit.patching contributors (@healthit)
options:
  evidence_dir:
    description: Directory holding the evidence files.
    type: path
    required: true
  dest:
    description:
      - The tar.gz to write (created C(0600); replaced atomically when its content would differ).
    type: path
    required: true
  from_date:
    description: First UTC day of the period, V(YYYY-MM-DD), inclusive. Without it, from the oldest file.
    type: str
  to_date:
    description: Last UTC day of the period, V(YYYY-MM-DD), inclusive. Without it, up to the newest file.
    type: str
  prefix:
    description: Top directory inside the archive. Defaults to the name of O(dest) without C(.tar.gz).
    type: str
  hmac_key_file:
    description:
      - HMAC key the runs were recorded with, to verify their HMACs before packing.
      - Defaults to E(HEALTHIT_AUDIT_HMAC_KEY_FILE) in the controller's environment. The key is never packed.
    type: path
  fail_on_tampered:
    description: Fail (after writing the bundle) when a packed file does not verify.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Builds the bundle in memory and reports its hash and whether it would change, writes nothing.
  diff_mode:
    support: none
    description: A binary archive has no useful diff; RV(sha256) tells whether it changed.
  platform:
    support: full
    platforms: posix
    description: Run it on the controller (C(localhost)) where the evidence is kept.
seealso:
  - module: healthit.patching.audit_verify
"""

EXAMPLES = r"""
- name: Hand the third quarter's evidence to the auditor
  healthit.patching.evidence_bundle:
    evidence_dir: /var/lib/healthit/evidence
    from_date: "2026-07-01"
    to_date: "2026-09-30"
    dest: /srv/handover/evidence-2026Q3.tar.gz
    hmac_key_file: /etc/healthit/evidence.key
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
dest:
  description: The bundle written.
  returned: always
  type: str
sha256:
  description: SHA-256 of the bundle (quote it in the hand-over record).
  returned: when evidence files were found
  type: str
files:
  description: Number of evidence files packed.
  returned: always
  type: int
summary:
  description: Number of packed files per verification status.
  returned: when evidence files were found
  type: dict
  sample: {"verified": 12, "incomplete": 1, "tampered": 0}
manifest:
  description: The content of MANIFEST.json.
  returned: when evidence files were found
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev


def main():
    module = AnsibleModule(
        argument_spec=dict(
            evidence_dir=dict(type="path", required=True),
            dest=dict(type="path", required=True),
            from_date=dict(type="str"),
            to_date=dict(type="str"),
            prefix=dict(type="str"),
            hmac_key_file=dict(type="path", fallback=(env_fallback, ["HEALTHIT_AUDIT_HMAC_KEY_FILE"]), no_log=False),
            fail_on_tampered=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    try:
        result, failure = ev.run_bundle(module.params, check_mode=module.check_mode)
    except (ev.EvidenceError, OSError) as exc:
        module.fail_json(msg=str(exc))
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
