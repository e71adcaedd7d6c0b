# Private to the healthit.patching collection: not a public API, may change without notice.
"""Evidence chain core: canonical JSON, record hashing, HMAC, verification and bundling.

Shared by the hipaa_audit callback (writer side), the audit_verify module and the
evidence_bundle module. Pure Python on purpose (no Ansible imports) so that the exact same
code hashes a record when it is written and when an auditor verifies it years later.
Kept compatible with every Python a module may run under (3.8+).
"""

import datetime
import gzip
import hashlib
import hmac
import io
import json
import os
import re
import tarfile

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
RUN_START = "run_start"
RUN_END = "run_end"
EVIDENCE_SUFFIX = ".jsonl"
# <UTC start time>-<run id>.jsonl, e.g. 20261122T065501Z-1b4e28ba-2fa1-4d2b-883f-0016d3cca427.jsonl
FILE_NAME_RE = re.compile(r"^(\d{8}T\d{6}Z)-([0-9a-f-]{36})\.jsonl$")

STATUS_VERIFIED = "verified"
STATUS_INCOMPLETE = "incomplete"
STATUS_TAMPERED = "tampered"

_CHAIN_FIELDS = ("hash", "hmac")
_REQUIRED_FIELDS = ("v", "seq", "ts", "run_id", "type", "prev_hash", "hash")
MIN_KEY_BYTES = 16


class EvidenceError(Exception):
    """Bad evidence input (unreadable key, unusable path): the message names the file."""


def canonical_json(obj):
    """The one byte form a record is hashed and written in: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def record_body(record):
    """The record as hashed: every field except the hash and the HMAC themselves."""
    return canonical_json(dict((k, v) for k, v in record.items() if k not in _CHAIN_FIELDS))


def record_hash(record):
    return sha256_hex(record_body(record))


def record_hmac(record, key):
    return hmac.new(key, record_body(record), hashlib.sha256).hexdigest()


def key_id(key):
    """A short public fingerprint of an HMAC key: says which key, reveals nothing of it."""
    return sha256_hex(b"healthit.patching evidence key id\0" + key)[:16]


def load_hmac_key(path):
    """Read an HMAC key file (raw bytes, surrounding whitespace ignored)."""
    try:
        with open(path, "rb") as handle:
            key = handle.read().strip()
    except (IOError, OSError) as exc:
        raise EvidenceError("HMAC key file %s cannot be read: %s" % (path, exc))
    if len(key) < MIN_KEY_BYTES:
        raise EvidenceError("HMAC key file %s holds %d bytes; at least %d are needed"
                            % (path, len(key), MIN_KEY_BYTES))
    return key


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def rfc3339(moment):
    """RFC 3339 UTC timestamp with microseconds, e.g. 2026-11-22T06:55:01.123456Z."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def evidence_file_name(started, run_id):
    return "%s-%s%s" % (started.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
                        run_id, EVIDENCE_SUFFIX)


def seal(record, prev_hash, key=None):
    """Add prev_hash, hash and (with a key) hmac to a record; returns the line to append."""
    record["prev_hash"] = prev_hash
    record.pop("hash", None)
    record.pop("hmac", None)
    body = record_body(record)
    record["hash"] = sha256_hex(body)
    if key is not None:
        record["hmac"] = hmac.new(key, body, hashlib.sha256).hexdigest()
    return canonical_json(record) + b"\n"


class _Finding(Exception):
    def __init__(self, line, seq, reason):
        Exception.__init__(self, reason)
        self.line = line
        self.seq = seq
        self.reason = reason


def _announces_hmac(record):
    evidence = record.get("evidence")
    return isinstance(evidence, dict) and bool(evidence.get("hmac"))


def _check_record(raw, lineno, expected_seq, prev_hash, run_id, keyed, closed):
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Finding(lineno, None, "line is not a JSON record (%s)" % exc)
    if not isinstance(record, dict):
        raise _Finding(lineno, None, "line is JSON but not a record object")
    seq = record.get("seq")
    missing = [f for f in _REQUIRED_FIELDS if f not in record]
    if missing:
        raise _Finding(lineno, seq, "record lacks field(s) %s" % ", ".join(missing))
    if closed:
        raise _Finding(lineno, seq, "record follows the closing run_end record (appended after the run ended)")
    if canonical_json(record) != raw:
        raise _Finding(lineno, seq, "line is not in canonical form (bytes changed after writing)")
    if seq != expected_seq:
        raise _Finding(lineno, seq, "seq %r where %d was expected (record deleted, inserted or moved)"
                       % (seq, expected_seq))
    if expected_seq == 0 and record["type"] != RUN_START:
        raise _Finding(lineno, seq, "first record is %r, not run_start" % record["type"])
    if expected_seq > 0 and record["type"] == RUN_START:
        raise _Finding(lineno, seq, "a second run_start record")
    if expected_seq == 0:
        keyed = _announces_hmac(record)
    if run_id is not None and record["run_id"] != run_id:
        raise _Finding(lineno, seq, "run_id %r differs from the run's %r (record from another file)"
                       % (record["run_id"], run_id))
    if record["prev_hash"] != prev_hash:
        raise _Finding(lineno, seq, "prev_hash does not match the previous record's hash "
                       "(chain broken: record deleted, inserted or moved)")
    if record_hash(record) != record["hash"]:
        raise _Finding(lineno, seq, "hash does not match the record's content (record edited)")
    if keyed and "hmac" not in record:
        raise _Finding(lineno, seq, "record has no hmac although the run was keyed (record forged)")
    if not keyed and "hmac" in record:
        raise _Finding(lineno, seq, "record has an hmac although the run was not keyed")
    return record


def verify_file(path, key=None):
    """Verify one evidence file. Never raises for bad content: the result says what is wrong.

    status: verified (chain intact, closing record present), incomplete (every complete
    line verifies but the run has no closing record, possibly with a partial last line
    left by a killed process), tampered (first_error names the line, seq and reason).
    """
    result = {
        "path": path,
        "status": STATUS_TAMPERED,
        "records": 0,
        "sha256": None,
        "size": 0,
        "run_id": None,
        "started": None,
        "ended": None,
        "closed": False,
        "partial_tail": False,
        "hmac": "absent",
        "first_error": None,
    }
    with open(path, "rb") as handle:
        data = handle.read()
    result["sha256"] = sha256_hex(data)
    result["size"] = len(data)
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    prev_hash = GENESIS_HASH
    run_id = None
    keyed = False
    closed = False
    key_mismatch = None
    try:
        for index, raw in enumerate(lines):
            lineno = index + 1
            record = _check_record(raw, lineno, index, prev_hash, run_id, keyed, closed)
            if index == 0:
                run_id = record["run_id"]
                result["run_id"] = run_id
                result["started"] = record["ts"]
                evidence = record.get("evidence") or {}
                keyed = _announces_hmac(record)
                if keyed:
                    result["hmac"] = "not_checked"
                    if key is not None:
                        if evidence.get("hmac_key_id") != key_id(key):
                            key_mismatch = evidence.get("hmac_key_id")
                        result["hmac"] = "verified"
            if keyed and key is not None and key_mismatch is None:
                if not hmac.compare_digest(record_hmac(record, key), str(record["hmac"])):
                    raise _Finding(lineno, record["seq"],
                                   "hmac does not match (record forged or edited)")
            prev_hash = record["hash"]
            result["records"] = lineno
            if record["type"] == RUN_END:
                closed = True
                result["ended"] = record["ts"]
        if key_mismatch is not None:
            raise _Finding(1, 0, "the run was keyed with key id %s, not with the key given (id %s)"
                           % (key_mismatch, key_id(key)))
        if tail:
            result["partial_tail"] = True
            if closed:
                raise _Finding(len(lines) + 1, None,
                               "bytes follow the closing run_end record (appended after the run ended)")
    except _Finding as finding:
        result["first_error"] = {"line": finding.line, "seq": finding.seq, "reason": finding.reason}
        if result["hmac"] == "verified":
            result["hmac"] = "failed"
        return result
    result["closed"] = closed
    if closed:
        result["status"] = STATUS_VERIFIED
    else:
        result["status"] = STATUS_INCOMPLETE
        if not lines and not tail:
            result["reason"] = "empty file: the run was stopped before its first record"
        elif tail:
            result["reason"] = ("no closing run_end record; the last line is partial (process killed "
                                "mid-write); all %d complete records verify" % len(lines))
        else:
            result["reason"] = "no closing run_end record; all %d records verify" % len(lines)
    return result


def evidence_files(path, pattern_suffix=EVIDENCE_SUFFIX):
    """One file, or every evidence file directly in a directory, sorted by name."""
    if os.path.isdir(path):
        return sorted(os.path.join(path, name) for name in os.listdir(path)
                      if name.endswith(pattern_suffix) and os.path.isfile(os.path.join(path, name)))
    if os.path.isfile(path):
        return [path]
    raise EvidenceError("evidence path %s is neither a file nor a directory" % path)


def verify_path(path, key=None):
    """Verify a file or directory; returns (results, summary)."""
    results = [verify_file(p, key) for p in evidence_files(path)]
    summary = {STATUS_VERIFIED: 0, STATUS_INCOMPLETE: 0, STATUS_TAMPERED: 0}
    for item in results:
        summary[item["status"]] += 1
    return results, summary


def describe_failure(result):
    err = result["first_error"] or {}
    return "%s: line %s (seq %s): %s" % (result["path"], err.get("line"), err.get("seq"),
                                         err.get("reason"))


def parse_day(value, field):
    """A YYYY-MM-DD date (UTC day) for a bundle period."""
    try:
        return datetime.datetime.strptime(str(value), "%Y-%m-%d").date()
    except ValueError:
        raise EvidenceError("%s %r is not a date in the form YYYY-MM-DD" % (field, value))


def file_run_day(name):
    match = FILE_NAME_RE.match(name)
    if not match:
        return None
    return datetime.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").date()


def select_period(directory, first_day=None, last_day=None):
    """Evidence files whose run started (UTC, from the file name) within [first_day, last_day]."""
    chosen = []
    for path in evidence_files(directory):
        day = file_run_day(os.path.basename(path))
        if day is None:
            continue
        if first_day is not None and day < first_day:
            continue
        if last_day is not None and day > last_day:
            continue
        chosen.append(path)
    return chosen


def _tar_member(name, data, mtime, mode=0o600):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = mtime
    info.mode = mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def build_bundle(paths, prefix, key=None, period=None, collection_version=None):
    """Pack evidence files into deterministic tar.gz bytes; returns (bytes, manifest).

    Deterministic: members sorted by name, owner 0/0, fixed modes, every mtime (and the
    gzip header's) set to the newest evidence file's mtime, no file name in the gzip header;
    the same files therefore always give the same bundle hash.
    """
    paths = sorted(paths, key=os.path.basename)
    results = [verify_file(p, key) for p in paths]
    mtime = int(max([os.stat(p).st_mtime for p in paths] or [0]))
    files = []
    for path, res in zip(paths, results):
        files.append({
            "name": "evidence/" + os.path.basename(path),
            "sha256": res["sha256"],
            "size": res["size"],
            "status": res["status"],
            "records": res["records"],
            "run_id": res["run_id"],
            "started": res["started"],
            "ended": res["ended"],
            "partial_tail": res["partial_tail"],
            "hmac": res["hmac"],
            "first_error": res["first_error"],
        })
    summary = {STATUS_VERIFIED: 0, STATUS_INCOMPLETE: 0, STATUS_TAMPERED: 0}
    for res in results:
        summary[res["status"]] += 1
    manifest = {
        "format": "healthit.patching evidence bundle",
        "format_version": FORMAT_VERSION,
        "period": period or {},
        "hmac_key_id": key_id(key) if key is not None else None,
        "summary": summary,
        "files": files,
    }
    if collection_version:
        manifest["collection_version"] = collection_version
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    sums = "".join("%s  %s\n" % (f["sha256"], f["name"]) for f in files).encode("utf-8")
    members = [("MANIFEST.json", manifest_bytes), ("SHA256SUMS", sums)]
    for path, entry in zip(paths, files):
        with open(path, "rb") as handle:
            members.append((entry["name"], handle.read()))
    members.sort(key=lambda item: item[0])

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs = sorted(set([prefix] + [prefix + "/" + os.path.dirname(n) for n, _d in members if "/" in n]))
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o700
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info)
        for name, data in members:
            tar.addfile(_tar_member(prefix + "/" + name, data, mtime), io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=mtime, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue(), manifest


def run_verify(params):
    """audit_verify's logic. Returns (result, failure message or None)."""
    key = load_hmac_key(params["hmac_key_file"]) if params.get("hmac_key_file") else None
    files, summary = verify_path(params["path"], key)
    result = {"changed": False, "files": files, "summary": summary, "verified": True}
    problems = []
    for item in files:
        if item["status"] == STATUS_TAMPERED:
            problems.append("tampered: " + describe_failure(item))
    if params.get("fail_on_incomplete"):
        for item in files:
            if item["status"] == STATUS_INCOMPLETE:
                problems.append("incomplete: %s: %s" % (item["path"], item.get("reason")))
    if params.get("require_hmac"):
        if key is None:
            problems.append("require_hmac is set but no hmac_key_file was given")
        for item in files:
            if item["status"] != STATUS_TAMPERED and item["hmac"] != "verified":
                problems.append("no verified HMAC: %s (hmac %s)" % (item["path"], item["hmac"]))
    if not files:
        problems.append("no evidence files (*%s) in %s" % (EVIDENCE_SUFFIX, params["path"]))
    if problems:
        result["verified"] = False
        return result, "%d problem(s); first: %s" % (len(problems), problems[0])
    return result, None


def run_bundle(params, check_mode=False, collection_version=None):
    """evidence_bundle's logic. Returns (result, failure message or None)."""
    first_day = parse_day(params["from_date"], "from_date") if params.get("from_date") else None
    last_day = parse_day(params["to_date"], "to_date") if params.get("to_date") else None
    if first_day and last_day and first_day > last_day:
        raise EvidenceError("from_date %s is after to_date %s" % (first_day, last_day))
    if not os.path.isdir(params["evidence_dir"]):
        raise EvidenceError("evidence_dir %s is not a directory" % params["evidence_dir"])
    key = load_hmac_key(params["hmac_key_file"]) if params.get("hmac_key_file") else None
    paths = select_period(params["evidence_dir"], first_day, last_day)
    dest = params["dest"]
    result = {"changed": False, "dest": dest, "files": len(paths)}
    if not paths:
        return result, "no evidence files in %s for the period %s .. %s" % (
            params["evidence_dir"], first_day or "beginning", last_day or "end")
    period = {"from": str(first_day) if first_day else None, "to": str(last_day) if last_day else None}
    prefix = params.get("prefix") or os.path.basename(dest).split(".tar")[0]
    data, manifest = build_bundle(paths, prefix, key=key, period=period, collection_version=collection_version)
    digest = sha256_hex(data)
    result.update(sha256=digest, summary=manifest["summary"], manifest=manifest)
    existing = file_sha256(dest) if os.path.isfile(dest) else None
    if existing != digest:
        result["changed"] = True
        if not check_mode:
            tmp = "%s.tmp.%d" % (dest, os.getpid())
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, dest)
    tampered = [f for f in manifest["files"] if f["status"] == STATUS_TAMPERED]
    if tampered and params.get("fail_on_tampered", True):
        err = tampered[0]["first_error"] or {}
        return result, ("%d tampered evidence file(s) in the bundle (written for the auditor, see MANIFEST.json); "
                        "first: %s line %s (seq %s): %s" % (len(tampered), tampered[0]["name"], err.get("line"),
                                                            err.get("seq"), err.get("reason")))
    return result, None
