# Private to the healthit.patching collection: not a public API, may change without notice.
"""Controller-side evidence writer: append-only, fsync'ed, hash-chained JSON Lines.

Plain Python without Ansible imports so it is unit-tested directly; the hipaa_audit callback
only maps Ansible events to the records written here. Also holds the redaction and
allow-list filtering that decide what of a task result may become evidence.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import stat
import threading
import uuid

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev

FSYNC_POLICIES = ("record", "strict", "batch", "none")
BATCH_SIZE = 100
# Records after which a "batch" policy syncs at once: boundaries an auditor reasons about.
_BATCH_SYNC_TYPES = frozenset((ev.RUN_START, "playbook_start", "play_start", ev.RUN_END))
# Records that announce an action (or end the run): with "record", write() returns only once they and
# every record before them are on disk, so nothing starts before its intent and all earlier results are durable.
_BARRIER_TYPES = frozenset((ev.RUN_START, "playbook_start", "play_start", "task_start", ev.RUN_END))

REDACTED = "[redacted]"
NO_LOG_MARKER = "[no_log: result withheld from evidence]"
TRUNCATED = "[truncated]"
MAX_DEPTH = 12
MAX_STRING = 8192
MAX_ITEMS = 500

DEFAULT_RESULT_FIELDS = (
    "changed", "failed", "skipped", "unreachable", "rc", "msg", "skip_reason",
    "reboot", "rebooted", "reboot_required", "elapsed",
    "packages", "updates", "installed_update_count", "failed_update_count",
    "found_update_count", "filtered_updates",
    "version", "versions", "firmware_version", "before_version", "after_version",
)
# Result keys kept whatever the allow-list says: the platform roles' result contract.
ALWAYS_PREFIXES = ("patch_",)

# The hipaa_audit callback's documented default of extra_var_fields (a unit test keeps the two equal).
DEFAULT_EXTRA_VAR_FIELDS = (
    "patch_change_ticket", "patch_wave", "kev_ids", "patch_baseline", "patch_hosts", "clinical_app",
    "clinical_app_version",
    "awx_job_id", "awx_job_template_name", "awx_job_launch_type", "awx_schedule_name", "awx_user_name",
    "awx_workflow_job_id", "awx_workflow_job_name", "awx_inventory_name", "awx_project_revision",
    "awx_parent_job_schedule_name", "awx_parent_job_schedule_id", "awx_job_template_id", "awx_user_id",
    "awx_inventory_id", "awx_job_scm_branch", "awx_project_scm_branch",
    "tower_job_id", "tower_job_template_name", "tower_job_launch_type", "tower_schedule_name",
    "tower_user_name", "tower_workflow_job_id", "tower_workflow_job_name", "tower_inventory_name",
    "tower_project_revision", "tower_parent_job_schedule_name", "tower_parent_job_schedule_id",
)

# Whole words (after splitting snake/kebab/camel case) that mark a key as secret ...
_SECRET_WORDS = frozenset((
    "key", "keys", "auth", "pass", "pwd", "pin", "otp", "jwt", "csrf", "xsrf", "sid", "psk",
    "bearer", "vault",
))
# ... and fragments that do so anywhere in the key.
_SECRET_FRAGMENTS = (
    "password", "passwd", "passphrase", "secret", "token", "credential", "cookie", "private",
    "apikey", "sessionid", "sessid", "authorization", "authentication", "privkey", "signingkey",
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
# key=value / key: value pairs inside free text (msg, task names) whose key looks secret.
_TEXT_SECRET = re.compile(
    r"(?i)\b([\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|credential|"
    r"private[_-]?key|cookie|session[_-]?id|auth)[\w.-]*)(\s*[=:]\s*)((?:bearer\s+|basic\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s,;&]+))")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# Every pattern below needs one of these fragments; text without any is returned untouched.
_TEXT_TRIGGER = re.compile(r"(?i)pass|secret|token|key|credential|cookie|session|auth|bearer|basic|://")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@")


# Names of this collection's own records that contain "key" but never hold a secret: a baseline's
# platform key (linux:debian:bookworm) and the public id of the HMAC key.
_NOT_SECRET = frozenset(("baseline_key", "hmac_key_id", "key_id"))


@functools.lru_cache(maxsize=4096)
def _is_secret_name(name: str) -> bool:
    if name in _NOT_SECRET:
        return False
    text = _CAMEL.sub(r"\1_\2", str(name)).lower()
    words = [w for w in _SPLIT.split(text) if w]
    if any(w in _SECRET_WORDS for w in words):
        return True
    compact = "".join(words)
    return any(fragment in compact for fragment in _SECRET_FRAGMENTS)


def is_secret_key(name) -> bool:
    """Whether a mapping key names a secret (key names repeat a lot: cached)."""
    return _is_secret_name(str(name))


def scrub_text(text: str) -> str:
    """Redact key=value secrets, bearer tokens and URL credentials inside free text."""
    if not _TEXT_TRIGGER.search(text):  # the common case: one cheap scan, nothing to redact
        return text
    text = _TEXT_SECRET.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + " " + REDACTED, text)
    return _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + "@", text)


def to_evidence(value, depth: int = 0):
    """Plain JSON types only, secrets redacted at any depth, sizes bounded."""
    if depth > MAX_DEPTH:
        return TRUNCATED
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        text = scrub_text(str(value).encode("utf-8", "replace").decode("utf-8"))
        if len(text) > MAX_STRING:
            text = text[:MAX_STRING] + TRUNCATED
        return text
    if isinstance(value, dict) or hasattr(value, "items"):
        out = {}
        for count, (k, v) in enumerate(value.items()):
            if count >= MAX_ITEMS:
                out[TRUNCATED] = "%d more keys" % (len(value) - MAX_ITEMS)
                break
            key = to_evidence(k if isinstance(k, str) else str(k), depth + 1)
            out[key] = REDACTED if is_secret_key(k) else to_evidence(v, depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)) or hasattr(value, "__iter__"):
        items = list(value)
        out = [to_evidence(v, depth + 1) for v in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            out.append("%s %d more items" % (TRUNCATED, len(items) - MAX_ITEMS))
        return out
    return to_evidence(str(value), depth + 1)


def select_fields(data, allowed, prefixes=ALWAYS_PREFIXES) -> dict:
    """Top-level keys of a mapping that are allow-listed (or start with an always-kept prefix)."""
    if not isinstance(data, dict):
        return {}
    allowed = frozenset(allowed)
    picked = {k: v for k, v in data.items()
              if isinstance(k, str) and (k in allowed or k.startswith(tuple(prefixes)))}
    return to_evidence(picked)


def result_evidence(result, allowed, no_log: bool) -> dict:
    """What of a task result becomes evidence: a marker for no_log, else allow-listed fields."""
    if no_log:
        out = {"censored": NO_LOG_MARKER}
        if isinstance(result, dict) and "changed" in result:
            out["changed"] = bool(result.get("changed"))
        return out
    out = select_fields(result, allowed)
    loop = result.get("results") if isinstance(result, dict) else None
    if isinstance(loop, list):
        counts = {"items": len(loop), "changed": 0, "failed": 0, "skipped": 0}
        for item in loop:
            if isinstance(item, dict):
                for flag in ("changed", "failed", "skipped"):
                    counts[flag] += 1 if item.get(flag) else 0
        out["loop"] = counts
    return out


class EvidenceWriterError(Exception):
    """The evidence file cannot be created or appended to; the message names the path."""


class _Committer:
    """Group commit: a thread fsyncs whatever has been written, as fast as the disk allows.

    Every record written is covered by an fsync that starts after its write; the writer does not
    wait for it except at barriers. One fsync then covers all records written during the previous
    one, so a slow or busy disk delays durability by one fsync, not the run by one fsync per record.
    """

    def __init__(self, fd: int):
        self._fd = fd
        self._cond = threading.Condition()
        self._written = 0
        self._synced = 0
        self._error: OSError | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="hipaa_audit-fsync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._written == self._synced and not self._stopping:
                    self._cond.wait()
                if self._written == self._synced:
                    return
                target = self._written
            try:
                os.fsync(self._fd)
            except OSError as exc:
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                self._synced = target
                self._cond.notify_all()

    def written(self) -> None:
        with self._cond:
            if self._error is not None:
                raise self._error
            self._written += 1
            self._cond.notify_all()

    def wait(self) -> None:
        """Return once every record written so far is on disk."""
        with self._cond:
            while self._synced < self._written and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error

    def stop(self) -> None:
        try:
            self.wait()
        finally:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            self._thread.join()

    @property
    def pending(self) -> int:
        with self._cond:
            return self._written - self._synced


class EvidenceWriter:
    """One append-only, hash-chained evidence file per run.

    Each record is one canonical JSON line written with a single os.write() on an
    O_APPEND descriptor (so a killed process loses at most the line being written).
    fsync policies: ``record`` (default) fsyncs every record through a group-commit thread and
    makes write() of an action-announcing record (run/playbook/play/task start, run end) return only
    once it and everything before it is on disk; ``strict`` fsyncs every record before write()
    returns; ``batch`` fsyncs at run/playbook/play boundaries and every ``batch_size`` records;
    ``none`` leaves it to the operating system.
    """

    def __init__(self, directory: str, hmac_key: bytes | None = None, fsync: str = "record",
                 run_id: str | None = None, clock=ev.utc_now, batch_size: int = BATCH_SIZE):
        if fsync not in FSYNC_POLICIES:
            raise EvidenceWriterError("fsync policy %r is not one of %s" % (fsync, ", ".join(FSYNC_POLICIES)))
        self.directory = os.path.abspath(os.path.expanduser(directory))
        self.hmac_key = hmac_key
        self.fsync = fsync
        self.run_id = run_id or str(uuid.uuid4())
        self.clock = clock
        self.batch_size = batch_size
        self.path: str | None = None
        self.seq = 0
        self.last_hash = ev.GENESIS_HASH
        self.closed = False
        self.warnings: list[str] = []
        self._fd: int | None = None
        self._unsynced = 0
        self._broken: str | None = None
        self._committer: _Committer | None = None

    def _ensure_directory(self) -> None:
        try:
            os.makedirs(self.directory, mode=0o700)
            os.chmod(self.directory, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise EvidenceWriterError("evidence directory %s cannot be created: %s" % (self.directory, exc))
        try:
            st = os.stat(self.directory)
        except OSError as exc:
            raise EvidenceWriterError("evidence directory %s cannot be read: %s" % (self.directory, exc))
        if not stat.S_ISDIR(st.st_mode):
            raise EvidenceWriterError("evidence directory %s is not a directory" % self.directory)
        if st.st_mode & 0o022:
            self.warnings.append("evidence directory %s is writable by group or others (mode %04o); 0700 is expected"
                                 % (self.directory, stat.S_IMODE(st.st_mode)))

    def open(self) -> str:
        """Create the run's file (0600, exclusive) and return its path."""
        self._ensure_directory()
        started = self.clock()
        path = os.path.join(self.directory, ev.evidence_file_name(started, self.run_id))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            raise EvidenceWriterError("evidence file %s cannot be created: %s" % (path, exc))
        os.fchmod(fd, 0o600)
        if self.fsync != "none":
            self._sync_directory()
        self._fd = fd
        self.path = path
        if self.fsync == "record":
            self._committer = _Committer(fd)
        return path

    def _sync_directory(self) -> None:
        dfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def write(self, record_type: str, fields: dict | None = None) -> dict:
        """Append one record; returns it as written (with seq, ts, prev_hash, hash, hmac)."""
        if self._broken:
            raise EvidenceWriterError(self._broken)
        if self._fd is None:
            if self.closed:
                raise EvidenceWriterError("evidence file %s is already closed" % self.path)
            self.open()
        record = dict(fields or {})
        record.update(v=ev.FORMAT_VERSION, seq=self.seq, ts=ev.rfc3339(self.clock()),
                      run_id=self.run_id, type=record_type)
        line = ev.seal(record, self.last_hash, self.hmac_key)
        try:
            written = os.write(self._fd, line)
            while written < len(line):  # short writes are rare but legal
                written += os.write(self._fd, line[written:])
            self._unsynced += 1
            if self._committer is not None:
                self._committer.written()
                if record_type in _BARRIER_TYPES:
                    self._committer.wait()
            elif self.fsync == "strict" or (self.fsync == "batch" and (
                    self._unsynced >= self.batch_size or record_type in _BATCH_SYNC_TYPES)):
                self.sync()
        except OSError as exc:
            # A half-written line ends the chain: later records could never verify.
            self._broken = "evidence file %s cannot be appended to: %s" % (self.path, exc)
            raise EvidenceWriterError(self._broken)
        self.seq += 1
        self.last_hash = record["hash"]
        return record

    def sync(self) -> None:
        """Return once every record written so far is on disk."""
        if self._committer is not None:
            self._committer.wait()
        elif self._fd is not None and self._unsynced:
            os.fsync(self._fd)
        self._unsynced = 0

    def close(self) -> None:
        if self._fd is not None:
            try:
                if self._committer is not None:
                    self._committer.stop()
                    self._committer = None
                if self.fsync != "none":
                    os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
        self.closed = True


def collection_version(collection_root: str) -> str | None:
    """This collection's version from MANIFEST.json (installed) or galaxy.yml (checkout)."""
    manifest = os.path.join(collection_root, "MANIFEST.json")
    try:

        with open(manifest, encoding="utf-8") as handle:
            return str(json.load(handle)["collection_info"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(collection_root, "galaxy.yml"), encoding="utf-8") as handle:
            for line in handle:
                match = re.match(r"^version:\s*['\"]?([^'\"\s#]+)", line)
                if match:
                    return match.group(1)
    except OSError:
        pass
    return None
