# Private to the healthit.patching collection: not a public API, may change without notice.
"""The test wave's baseline: what was applied and validated, and whether production may use it.

A baseline holds, per platform key (``linux:debian:bookworm``, ``windows:kb``, ``ios:C9300``...), the exact
versions the test wave left on its hosts. Production installs exactly those. Its ``content_sha256`` is
the SHA-256 of the canonical JSON of ``content``; any edit of the file after recording is detected.
"""

import datetime
import hashlib
import json

OK_STATUSES = ('patched', 'current')
ATTEMPTED_STATUSES = ('patched', 'current', 'failed', 'rolled_back')


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def content_hash(content):
    return hashlib.sha256(canonical(content).encode('utf-8')).hexdigest()


def _utc(text):
    dt = datetime.datetime.strptime(str(text).replace('Z', '+0000'), '%Y-%m-%dT%H:%M:%S%z')
    return dt.astimezone(datetime.timezone.utc)


def build(results, min_success_rate, created, wave='test', change_ticket=None):
    """results: {host: patch_result}. Returns the baseline record (status passed, failed or inconsistent)."""
    hosts, content, conflicts = {}, {}, []
    attempted = ok = 0
    for host in sorted(results):
        r = results[host] or {}
        status = r.get('status', 'unknown')
        hosts[host] = dict(status=status, baseline_key=r.get('baseline_key'), reason=r.get('reason'))
        if status in ATTEMPTED_STATUSES:
            attempted += 1
        if status in OK_STATUSES:
            ok += 1
        if status != 'patched' or not r.get('baseline_key'):
            continue
        bucket = content.setdefault(r['baseline_key'], {})
        for name, version in sorted((r.get('after') or {}).items()):
            version = str(version)
            if name in bucket and bucket[name] != version:
                conflicts.append('%s %s: %s on one test host, %s on %s' % (r['baseline_key'], name, bucket[name], version, host))
            bucket.setdefault(name, version)
    rate = (float(ok) / attempted) if attempted else 0.0
    if conflicts:
        status, reason = 'inconsistent', 'test hosts ended on different versions: ' + '; '.join(conflicts)
    elif not attempted:
        status, reason = 'failed', 'no test host was patched or checked (all skipped or unreachable)'
    elif rate < float(min_success_rate):
        status, reason = 'failed', 'success rate %.0f%% is below the required %.0f%%' % (rate * 100, float(min_success_rate) * 100)
    else:
        status, reason = 'passed', '%d of %d test hosts patched or current' % (ok, attempted)
    stamp = _utc(created)
    return dict(
        id='%s-%s' % (stamp.strftime('%Y%m%dT%H%M%SZ'), wave),
        created=stamp.strftime('%Y-%m-%dT%H:%M:%SZ'),
        wave=wave,
        change_ticket=change_ticket,
        status=status,
        reason=reason,
        success_rate=round(rate, 4),
        min_success_rate=float(min_success_rate),
        hosts=hosts,
        content=content,
        content_sha256=content_hash(content),
    )


def check(baseline, min_success_rate, min_soak_days, now):
    """May production use this baseline now? Returns (ok, reason)."""
    if not isinstance(baseline, dict) or 'content' not in baseline:
        return False, 'the baseline file is not a baseline record'
    if content_hash(baseline['content']) != baseline.get('content_sha256'):
        return False, 'the baseline content does not match its SHA-256: it was changed after the test wave recorded it'
    if baseline.get('status') != 'passed':
        return False, 'the test wave did not pass: %s' % baseline.get('reason', baseline.get('status'))
    if float(baseline.get('success_rate', 0)) < float(min_success_rate):
        return False, 'the test wave success rate %.0f%% is below the required %.0f%%' % (
            float(baseline.get('success_rate', 0)) * 100, float(min_success_rate) * 100)
    try:
        created = _utc(baseline['created'])
    except (KeyError, ValueError):
        return False, 'the baseline has no readable creation time'
    now = _utc(now) if not isinstance(now, datetime.datetime) else now
    soaked = now - created
    if soaked < datetime.timedelta(days=float(min_soak_days)):
        return False, 'the baseline has soaked %s, less than the required %s day(s)' % (_span(soaked), min_soak_days)
    return True, 'baseline %s passed its test wave (%.0f%%) and soaked %s' % (
        baseline.get('id'), float(baseline['success_rate']) * 100, _span(soaked))


def _span(delta):
    """A timedelta without its microseconds, for messages."""
    return str(delta - datetime.timedelta(microseconds=delta.microseconds))
