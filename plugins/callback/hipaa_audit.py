# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: hipaa_audit
type: notification
short_description: Tamper-evident HIPAA audit evidence for every run
version_added: 0.1.0
description:
  - Writes one append-only JSON Lines evidence file per C(ansible-playbook) run, one record per event
    (run start, playbook start, play start, task start, each host's result, closing record with the run's statistics).
  - Every record carries C(seq), an RFC 3339 UTC C(ts), C(prev_hash) and C(hash) (SHA-256 over the canonical record
    including C(prev_hash)), and an C(hmac) when O(hmac_key_file) is set, so that editing, deleting, inserting or
    reordering records is detectable with M(healthit.patching.audit_verify). A file without the closing C(run_end)
    record is reported as incomplete.
  - Secrets never reach the file. C(no_log) results are replaced by a marker; task arguments and extra vars are never
    written except the allow-listed keys O(task_arg_fields) and O(extra_var_fields); only O(result_fields) and keys
    starting with C(patch_) are kept from results; values under keys that look like secrets (password, token, secret,
    key, credential, private, auth, cookie, session id ...) are redacted at any depth, and C(key=value) secrets,
    bearer tokens and URL credentials are redacted inside text.
  - The file is created C(0600) with C(O_EXCL|O_APPEND) in a directory created C(0700); each record is written with a
    single C(write) and fsync'ed (see O(fsync)), so a C(kill -9) leaves a file whose every complete line verifies.
    Two runs at once write two files.
  - An exception in a callback never stops a playbook. The role C(healthit.patching.audit_guard) makes a playbook
    refuse to patch unless this callback is enabled and is recording the run.
  - While it records, the callback exports E(HEALTHIT_AUDIT_EVIDENCE_FILE) and E(HEALTHIT_AUDIT_RUN_ID) to the
    controller's environment (so tasks on the controller can name the evidence of their own run); both are emptied
    when the evidence file could not be created.
  - See C(docs/audit.md) in the collection for what each record proves and how an auditor verifies it.
author:
  - healthit.patching contributors (@healthit)
requirements:
  - Enable it in C(callbacks_enabled) (this callback needs to be enabled).
options:
  evidence_dir:
    description:
      - Directory for the evidence files; created with mode C(0700) when missing.
      - Keep it on storage that is retained for six years (45 CFR 164.316(b)(2)).
    type: path
    default: ~/.ansible/healthit_evidence
    env:
      - name: HEALTHIT_AUDIT_DIR
    ini:
      - section: callback_hipaa_audit
        key: evidence_dir
  hmac_key_file:
    description:
      - File holding a secret key (at least 16 bytes) for an HMAC-SHA256 over every record.
      - Without a key, the hash chain detects any change to recorded lines, but someone able to write the file could
        recompute hashes for forged records. With a key kept away from the evidence store they cannot.
      - When the key cannot be read, no evidence file is written and the run is not recorded (the audit_guard role
        then refuses to patch).
    type: path
    env:
      - name: HEALTHIT_AUDIT_HMAC_KEY_FILE
    ini:
      - section: callback_hipaa_audit
        key: hmac_key_file
  fsync:
    description:
      - When records are forced to stable storage. Every record is always written with a single C(write), so a killed
        C(ansible-playbook) loses at most the line being written, whatever the policy; fsync protects against a crash
        of the machine or a power loss.
      - V(record) fsyncs every record. A committer thread issues the fsyncs as fast as the disk allows (one fsync
        covers every record written while the previous one ran), and the records that announce an action (run,
        playbook, play and task start) and the closing record are not returned from until they and every record
        before them are on disk. So no task starts before its intent and all earlier results are durable. The
        default.
      - V(strict) fsyncs each record before the run continues. The strongest and slowest (one fsync per host
        result on the controller's critical path).
      - V(batch) fsyncs at run, playbook and play boundaries and every 100 records; a power loss or OS crash may lose
        the last records (the file then verifies as incomplete). Weaker; document the choice.
      - V(none) leaves flushing to the operating system. Weakest.
    type: str
    default: record
    choices: [record, strict, batch, none]
    env:
      - name: HEALTHIT_AUDIT_FSYNC
    ini:
      - section: callback_hipaa_audit
        key: fsync
  result_fields:
    description:
      - Top-level task result keys kept in the evidence. Keys starting with C(patch_) are always kept (the platform
        roles' C(patch_result) contract, printed with C(ansible.builtin.debug)). Secret-looking keys inside are
        still redacted.
      - C(stdout), C(stdout_lines), C(stderr) and C(invocation) are deliberately not in the default, because command output
        and module arguments are where secrets and patient data leak.
    type: list
    elements: str
    default: [changed, failed, skipped, unreachable, rc, msg, skip_reason, reboot, rebooted, reboot_required, elapsed,
              packages, updates, installed_update_count, failed_update_count, found_update_count, filtered_updates,
              version, versions, firmware_version, before_version, after_version]
    env:
      - name: HEALTHIT_AUDIT_RESULT_FIELDS
    ini:
      - section: callback_hipaa_audit
        key: result_fields
  extra_var_fields:
    description:
      - Extra vars recorded in the run start record. Extra vars are never written wholesale.
      - The default keeps the change ticket (C(patch_change_ticket)), the wave (C(patch_wave)), the KEV ids
        (C(kev_ids)), the baseline id (C(patch_baseline)), the host restriction (C(patch_hosts)), the clinical
        application and version of an application update (C(clinical_app), C(clinical_app_version)) and the
        AWX/AAP job identity variables (C(awx_*) and C(tower_*)).
    type: list
    elements: str
    default: [patch_change_ticket, patch_wave, kev_ids, patch_baseline, patch_hosts, clinical_app, clinical_app_version,
              awx_job_id, awx_job_template_name, awx_job_launch_type, awx_schedule_name, awx_user_name,
              awx_workflow_job_id, awx_workflow_job_name, awx_inventory_name,
              awx_project_revision, awx_parent_job_schedule_name, awx_parent_job_schedule_id, awx_job_template_id,
              awx_user_id, awx_inventory_id, awx_job_scm_branch, awx_project_scm_branch,
              tower_job_id, tower_job_template_name, tower_job_launch_type, tower_schedule_name,
              tower_user_name, tower_workflow_job_id, tower_workflow_job_name, tower_inventory_name,
              tower_project_revision, tower_parent_job_schedule_name, tower_parent_job_schedule_id]
    env:
      - name: HEALTHIT_AUDIT_EXTRA_VAR_FIELDS
    ini:
      - section: callback_hipaa_audit
        key: extra_var_fields
  task_arg_fields:
    description:
      - Task arguments (as the module received them, from the result's C(invocation)) recorded with each host result.
        None by default; task arguments leaked secrets in other logging callbacks (CVE-2019-14864).
    type: list
    elements: str
    default: []
    env:
      - name: HEALTHIT_AUDIT_TASK_ARG_FIELDS
    ini:
      - section: callback_hipaa_audit
        key: task_arg_fields
notes:
  - Records are written by the controller process; a slow evidence disk slows the run, it never loses a record
    silently. The benchmark in C(benchmarks/audit/) measures the cost.
seealso:
  - module: healthit.patching.audit_verify
  - module: healthit.patching.evidence_bundle
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = healthit.patching.hipaa_audit
#
# [callback_hipaa_audit]
# evidence_dir = /var/lib/healthit/evidence
# hmac_key_file = /etc/healthit/evidence.key
# fsync = record

# Or from the environment of one run:
# HEALTHIT_AUDIT_DIR=/var/lib/healthit/evidence ANSIBLE_CALLBACKS_ENABLED=healthit.patching.hipaa_audit \
#   ansible-playbook healthit.patching.wave -e patch_change_ticket=CHG0012345
"""

RETURN = r"""
# This callback returns nothing; it writes <evidence_dir>/<YYYYmmddTHHMMSSZ>-<run id>.jsonl.
"""

import getpass
import hashlib
import os
import socket
import sys

from ansible import context
from ansible import constants as C
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ansible_core_version

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev
from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer as ew

COLLECTION = "healthit.patching"
_COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV_FILE = "HEALTHIT_AUDIT_EVIDENCE_FILE"
ENV_RUN_ID = "HEALTHIT_AUDIT_RUN_ID"


def _sha256_of(path):
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except (OSError, TypeError):
        return None


def _local_user():
    try:
        return getpass.getuser()
    except Exception:  # no login name and no passwd entry: still record the uid
        return "uid:%d" % os.getuid()


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "healthit.patching.hipaa_audit"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._writer = None
        self._failed = False
        self._playbooks = 0
        self._tasks = {}
        self._result_fields = ew.DEFAULT_RESULT_FIELDS
        self._task_arg_fields = ()

    # --- writer plumbing -------------------------------------------------------------

    def _start_writer(self):
        self._result_fields = tuple(self.get_option("result_fields") or ())
        self._task_arg_fields = tuple(self.get_option("task_arg_fields") or ())
        key = None
        key_file = self.get_option("hmac_key_file")
        if key_file:
            key = ev.load_hmac_key(key_file)
        writer = ew.EvidenceWriter(self.get_option("evidence_dir"), hmac_key=key, fsync=self.get_option("fsync"))
        writer.open()
        for warning in writer.warnings:
            self._display.warning("hipaa_audit: %s" % warning)
        os.environ[ENV_FILE] = writer.path
        os.environ[ENV_RUN_ID] = writer.run_id
        self._writer = writer

    def _fail(self, exc):
        self._failed = True
        os.environ[ENV_FILE] = ""
        os.environ[ENV_RUN_ID] = ""
        self._display.error("hipaa_audit: NO AUDIT EVIDENCE IS BEING RECORDED for this run: %s" % exc)

    def _emit(self, record_type, fields_factory):
        """Build and write one record; a failure is loud and stops further recording."""
        if self._failed:
            return
        try:
            if self._writer is None:
                self._start_writer()
            fields = fields_factory()
            self._writer.write(record_type, fields)
        except (ev.EvidenceError, ew.EvidenceWriterError, OSError) as exc:
            self._fail(exc)
        except Exception as exc:  # a mapping bug must leave a trace in the chain, never a silent gap
            self._display.warning("hipaa_audit: could not record %s: %s" % (record_type, type(exc).__name__))
            try:
                self._writer.write("callback_error", {"event": record_type, "error": type(exc).__name__})
            except Exception as exc2:
                self._fail(exc2)

    # --- record builders --------------------------------------------------------------

    def _run_start_fields(self, playbook):
        cli = context.CLIARGS
        extra = {}
        try:
            plays = playbook.get_plays()
            if plays:
                extra = dict(plays[0].get_variable_manager().extra_vars)
        except Exception:  # an ad-hoc or unusual playbook object: record what the CLI gives
            extra = {}
        picked = ew.select_fields(extra, self.get_option("extra_var_fields") or (), prefixes=())

        def first(*names):
            for name in names:
                if picked.get(name) not in (None, ""):
                    return picked[name]
            return None

        local_user = _local_user()
        awx_user = first("awx_user_name", "tower_user_name")
        awx_job = first("awx_job_id", "tower_job_id") or os.environ.get("JOB_ID") or None
        operator = {
            "user": awx_user or local_user,
            "source": "awx" if (awx_user or awx_job) else "local",
            "controller_user": local_user,
            "sudo_user": os.environ.get("SUDO_USER"),
        }
        awx = None
        if operator["source"] == "awx":
            awx = {
                "job_id": awx_job,
                "job_template_name": first("awx_job_template_name", "tower_job_template_name"),
                # A job started by a scheduled workflow carries the schedule as its parent's.
                "schedule_name": first("awx_schedule_name", "tower_schedule_name", "awx_parent_job_schedule_name",
                                       "tower_parent_job_schedule_name"),
                "workflow_job_id": first("awx_workflow_job_id", "tower_workflow_job_id"),
                "workflow_job_name": first("awx_workflow_job_name", "tower_workflow_job_name"),
                "project_revision": first("awx_project_revision", "tower_project_revision"),
                "launch_type": first("awx_job_launch_type", "tower_job_launch_type"),
                "env_job_id": os.environ.get("JOB_ID"),
            }
        inventory = cli.get("inventory") or C.DEFAULT_HOST_LIST or []
        if isinstance(inventory, str):
            inventory = [inventory]
        inventory = [os.path.abspath(os.path.expanduser(str(i))) if os.path.exists(os.path.expanduser(str(i)))
                     else str(i) for i in inventory]
        fields = ew.to_evidence({
            "operator": operator,
            "awx": awx,
            "change_ticket": picked.get("patch_change_ticket"),
            "extra_vars": picked,
            "playbook": self._playbook_fields(playbook),
            "inventory_sources": inventory,
            "check_mode": bool(cli.get("check", False)),
            "diff_mode": bool(cli.get("diff", False)),
            "limit": cli.get("subset"),
            "tags": list(cli.get("tags") or ()),
            "skip_tags": list(cli.get("skip_tags") or ()),
        })
        # Written by this plugin, not taken from the run: exempt from redaction (a key *id* is public).
        key = self._writer.hmac_key
        fields.update({
            "ansible_core_version": str(ansible_core_version),
            "collection": {"name": COLLECTION, "version": ew.collection_version(_COLLECTION_ROOT)},
            "controller": {"hostname": socket.gethostname(), "pid": os.getpid(),
                           "python": "%d.%d.%d" % sys.version_info[:3]},
            "evidence": {
                "fsync": self._writer.fsync,
                "hmac": key is not None,
                "hmac_key_id": ev.key_id(key) if key is not None else None,
                "result_fields": sorted(str(f) for f in self._result_fields),
                "task_arg_fields": sorted(str(f) for f in self._task_arg_fields),
            },
        })
        return fields

    @staticmethod
    def _playbook_fields(playbook):
        path = getattr(playbook, "_file_name", None)
        path = os.path.abspath(path) if path and os.path.isfile(path) else path
        return {"path": path, "sha256": _sha256_of(path) if path else None}

    def _task_fields(self, task):
        """Task identity as evidence, converted once per task (results repeat it per host)."""
        uuid = getattr(task, "_uuid", None)
        cached = self._tasks.get(uuid) if uuid else None
        if cached is None:
            cached = ew.to_evidence({
                "task": task.get_name(),
                "action": getattr(task, "resolved_action", None) or task.action,
                "task_uuid": uuid,
                "task_path": task.get_path(),
            })
            if uuid:
                self._tasks[uuid] = cached
        return dict(cached)

    def _host_result(self, result, status, ignore_errors=False):
        task = result.task
        res = result.result
        no_log = (isinstance(task.no_log, bool) and task.no_log) or bool(res.get("_ansible_no_log")) \
            or "censored" in res
        if status == "ok" and res.get("changed"):
            status = "changed"
        fields = self._task_fields(task)
        del fields["task_path"]
        fields.update(
            host=ew.to_evidence(result.host.get_name()),
            status=status,
            no_log=no_log,
            result=ew.result_evidence(res, self._result_fields, no_log),
        )
        delegated = res.get("_ansible_delegated_vars")
        if isinstance(delegated, dict) and delegated.get("ansible_host"):
            fields["delegated_to"] = ew.to_evidence(delegated.get("ansible_host"))
        if status == "failed":
            fields["ignored"] = bool(ignore_errors)
        if self._task_arg_fields and not no_log:
            invocation = res.get("invocation") or {}
            fields["args"] = ew.select_fields(invocation.get("module_args") or {}, self._task_arg_fields, prefixes=())
        return fields

    # --- v2 events --------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self._playbooks += 1
        if self._playbooks == 1:
            if self._failed:
                return
            try:
                if self._writer is None:
                    self._start_writer()
            except (ev.EvidenceError, ew.EvidenceWriterError, OSError) as exc:
                self._fail(exc)
                return
            self._emit(ev.RUN_START, lambda: self._run_start_fields(playbook))
        else:
            self._emit("playbook_start", lambda: {"playbook": self._playbook_fields(playbook)})

    def v2_playbook_on_play_start(self, play):
        self._emit("play_start", lambda: ew.to_evidence({
            "play": play.get_name(),
            "hosts": play.hosts,
            "serial": play.serial,
            "strategy": play.strategy,
            "check_mode": play.check_mode,
        }))

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit("task_start", lambda: self._task_fields(task))

    def v2_playbook_on_handler_task_start(self, task):
        self._emit("task_start", lambda: dict(self._task_fields(task), handler=True))

    def v2_playbook_on_no_hosts_matched(self):
        self._emit("no_hosts_matched", dict)

    def v2_runner_on_ok(self, result):
        self._emit("host_result", lambda: self._host_result(result, "ok"))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit("host_result", lambda: self._host_result(result, "failed", ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._emit("host_result", lambda: self._host_result(result, "skipped"))

    def v2_runner_on_unreachable(self, result):
        self._emit("host_result", lambda: self._host_result(result, "unreachable"))

    def v2_playbook_on_stats(self, stats):
        def closing():
            hosts = {}
            totals = {}
            for host in sorted(stats.processed):
                summary = dict(stats.summarize(host))
                hosts[host] = summary
                for k, v in summary.items():
                    totals[k] = totals.get(k, 0) + v
            outcome = "failed" if totals.get("failures") or totals.get("unreachable") else "successful"
            return ew.to_evidence({"outcome": outcome, "stats": hosts, "totals": totals,
                                   "records": self._writer.seq + 1})

        self._emit(ev.RUN_END, closing)
        if self._writer is not None and not self._failed:
            try:
                self._writer.close()
            except OSError as exc:
                self._fail(exc)
