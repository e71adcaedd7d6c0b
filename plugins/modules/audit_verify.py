#!/usr/bin/python
# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: audit_verify
short_description: Verify hipaa_audit evidence files (hash chain, HMAC, completeness)
description:
  - Verifies one evidence file written by the C(healthit.patching.hipaa_audit) callback, or every C(*.jsonl) file
    directly inside a directory.
  - A file is V(verified) when every line is a canonical record, C(seq) counts up from 0 without gaps, each
    C(prev_hash) is the previous record's C(hash), each C(hash) matches its record, the HMAC matches (when the run
    was keyed and O(hmac_key_file) is given) and the run's closing C(run_end) record is present with nothing after it.
  - A file is V(incomplete) when every complete line verifies but the closing record is missing (the run was
    killed, crashed or is still running); a partial last line left by a killed process is reported in
    C(partial_tail), not as tampering.
  - A file is V(tampered) otherwise; the module then fails and names the first bad record (line, seq) and why.
  - Without the HMAC key, a forged record appended with a correctly recomputed hash cannot be told apart from a
    real one (the hash chain proves integrity only against someone who cannot rewrite the end of the file).
    Runs recorded with a key, verified with that key, detect it.
  - Runs on the controller; read-only.
version_added: 0.1.0
author:
  - healthit.patching contributors (@healthit)
options:
  path:
    description:
      - An evidence file, or a directory whose C(*.jsonl) files are all verified (not recursive).
    type: path
    required: true
  hmac_key_file:
    description:
      - The HMAC key file the runs were recorded with. Records of keyed runs are then checked against it.
      - Defaults to E(HEALTHIT_AUDIT_HMAC_KEY_FILE) in the controller's environment.
    type: path
  require_hmac:
    description:
      - Fail unless every file carries an HMAC that verified with O(hmac_key_file).
    type: bool
    default: false
  fail_on_incomplete:
    description:
      - Also fail when a run has no closing record (by default incomplete runs are reported, not failed).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Only reads files; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description: Run it on the controller (C(localhost)) where the evidence is kept.
seealso:
  - module: healthit.patching.evidence_bundle
"""

EXAMPLES = r"""
- name: Verify every evidence file of the evidence store
  healthit.patching.audit_verify:
    path: /var/lib/healthit/evidence
    hmac_key_file: /etc/healthit/evidence.key
  delegate_to: localhost
  run_once: true

# From a shell:
# ansible localhost -m healthit.patching.audit_verify -a path=/var/lib/healthit/evidence/20261122T065501Z-....jsonl
"""

RETURN = r"""
verified:
  description: True when no file is tampered (and, with O(fail_on_incomplete), none is incomplete).
  returned: always
  type: bool
summary:
  description: Number of files per status.
  returned: always
  type: dict
  sample: {"verified": 3, "incomplete": 1, "tampered": 0}
files:
  description: One entry per file verified, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The evidence file.
      type: str
    status:
      description: V(verified), V(incomplete) or V(tampered).
      type: str
    sha256:
      description: SHA-256 of the whole file as it is now (to quote in a hand-over or a ticket).
      type: str
    records:
      description: Number of leading records that verified.
      type: int
    run_id:
      description: The run id of the file's run start record.
      type: str
    started:
      description: Timestamp of the run start record.
      type: str
    ended:
      description: Timestamp of the closing record, null when there is none.
      type: str
    partial_tail:
      description: The file ends with a partial line (a run killed mid-write).
      type: bool
    hmac:
      description: V(verified), V(failed), V(not_checked) (keyed run, no key given) or V(absent) (run not keyed).
      type: str
    first_error:
      description: For a tampered file, the first bad record.
      type: dict
      sample: {"line": 7, "seq": 6, "reason": "hash does not match the record's content (record edited)"}
    reason:
      description: For an incomplete file, why it is incomplete.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            hmac_key_file=dict(type="path", fallback=(env_fallback, ["HEALTHIT_AUDIT_HMAC_KEY_FILE"]), no_log=False),
            require_hmac=dict(type="bool", default=False),
            fail_on_incomplete=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        result, failure = ev.run_verify(module.params)
    except ev.EvidenceError as exc:
        module.fail_json(msg=str(exc))
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
