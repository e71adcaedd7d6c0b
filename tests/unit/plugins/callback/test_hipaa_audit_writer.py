"""The callback's writer and redaction, tested directly (no Ansible involved)."""
import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev
from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer as ew

DATA = os.path.join(os.path.dirname(__file__), 'data', 'hipaa_audit')
with open(os.path.join(DATA, 'secrets.yml')) as f:
    SECRETS = yaml.safe_load(f)
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '.build', 'collections'))


@pytest.mark.parametrize('name', SECRETS['secret_keys'])
def test_secret_looking_keys_are_secret(name):
    assert ew.is_secret_key(name)


@pytest.mark.parametrize('name', SECRETS['safe_keys'])
def test_ordinary_keys_are_kept(name):
    assert not ew.is_secret_key(name)


@pytest.mark.parametrize('case', SECRETS['texts'], ids=[c['text'][:30] for c in SECRETS['texts']])
def test_secrets_inside_text_are_redacted(case):
    out = ew.scrub_text(case['text'])
    for s in case['absent']:
        assert s not in out
    for s in case.get('present', []):
        assert s in out


def test_nested_result_keeps_allow_listed_fields_and_redacts_at_any_depth():
    case = SECRETS['nested_result']
    out = ew.result_evidence(case['result'], ew.DEFAULT_RESULT_FIELDS, no_log=False)
    text = json.dumps(out)
    for s in case['must_not_appear']:
        assert s not in text
    for s in case['must_appear']:
        assert s in text
    assert 'stdout' not in out and 'invocation' not in out
    assert out['patch_result']['actions'][0]['credentials'] == ew.REDACTED


def test_no_log_result_becomes_a_marker():
    out = ew.result_evidence({'changed': True, 'censored': 'hidden', 'msg': 'NoLogSecret'}, ew.DEFAULT_RESULT_FIELDS,
                             no_log=True)
    assert out == {'censored': ew.NO_LOG_MARKER, 'changed': True}


def test_loop_results_are_counted_not_copied():
    out = ew.result_evidence({'changed': True, 'results': [
        {'changed': True, 'item': 'SecretItem'}, {'skipped': True, 'item': 'x'}, {'failed': True}]},
        ew.DEFAULT_RESULT_FIELDS, no_log=False)
    assert out['loop'] == {'items': 3, 'changed': 1, 'skipped': 1, 'failed': 1}
    assert 'SecretItem' not in json.dumps(out)


def test_values_become_plain_bounded_json():
    out = ew.to_evidence({'n': float('inf'), 'b': b'\xff', 's': {1, 2}, 1: 'int key', 'long': 'x' * 10000,
                          'deep': [[[[[[[[[[[[[[['bottom']]]]]]]]]]]]]]]})
    ev.canonical_json(out)  # must not raise
    assert out['n'] == 'inf' and out['1'] == 'int key' and out['long'].endswith(ew.TRUNCATED)
    assert ew.TRUNCATED in json.dumps(out['deep'])


def test_file_and_directory_modes_and_chain(tmp_path):
    directory = tmp_path / 'evidence'
    writer = ew.EvidenceWriter(str(directory))
    writer.write(ev.RUN_START, {'evidence': {'hmac': False}})
    writer.write(ev.RUN_END, {})
    writer.close()
    assert stat.S_IMODE(os.stat(str(directory)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(writer.path).st_mode) == 0o600
    assert ev.FILE_NAME_RE.match(os.path.basename(writer.path))
    assert ev.verify_file(writer.path)['status'] == 'verified'
    with pytest.raises(ew.EvidenceWriterError):
        writer.write('late', {})


def test_two_runs_at_once_write_two_files(tmp_path):
    a = ew.EvidenceWriter(str(tmp_path))
    b = ew.EvidenceWriter(str(tmp_path))
    for w in (a, b, a, b):
        w.write(ev.RUN_START if w.seq == 0 else ev.RUN_END, {})
    assert a.path != b.path
    assert [ev.verify_file(w.path)['status'] for w in (a, b)] == ['verified', 'verified']


def test_an_existing_file_is_never_reused(tmp_path):
    a = ew.EvidenceWriter(str(tmp_path), run_id='11111111-1111-4111-8111-111111111111', clock=lambda: ev.utc_now().replace(microsecond=0, second=0))
    a.open()
    b = ew.EvidenceWriter(str(tmp_path), run_id=a.run_id, clock=a.clock)
    with pytest.raises(ew.EvidenceWriterError) as err:
        b.open()
    assert a.path in str(err.value)


def test_unusable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(ew.EvidenceWriterError) as err:
        ew.EvidenceWriter(str(blocker / 'evidence')).open()
    assert str(blocker / 'evidence') in str(err.value)


def test_world_writable_directory_is_warned_about(tmp_path):
    directory = tmp_path / 'open'
    directory.mkdir()
    os.chmod(str(directory), 0o777)
    writer = ew.EvidenceWriter(str(directory))
    writer.open()
    assert writer.warnings and '0777' in writer.warnings[0]


@pytest.mark.parametrize('policy,expected', [('strict', 5), ('batch', 3), ('none', 0)])
def test_fsync_policy(tmp_path, monkeypatch, policy, expected):
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, 'fsync', lambda fd: (calls.append(fd), real(fd)))
    writer = ew.EvidenceWriter(str(tmp_path), fsync=policy)
    writer.open()
    calls[:] = []  # the directory sync at creation
    writer.write(ev.RUN_START, {})       # batch: boundary
    writer.write('task_start', {})
    writer.write('host_result', {})
    writer.write('play_start', {})       # batch: boundary
    writer.write(ev.RUN_END, {})         # batch: boundary
    assert len(calls) == expected
    writer.close()


def test_record_policy_commits_every_record_and_waits_at_barriers(tmp_path, monkeypatch):
    synced_sizes = []
    real = os.fsync

    def slow_fsync(fd):
        time.sleep(0.2)  # a busy disk
        real(fd)
        synced_sizes.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, 'fsync', slow_fsync)
    writer = ew.EvidenceWriter(str(tmp_path), fsync='record')
    writer.open()
    writer.write(ev.RUN_START, {})
    writer.write('task_start', {})
    # a barrier record returns only once it and everything before it is on disk
    assert synced_sizes and synced_sizes[-1] == os.path.getsize(writer.path)
    for n in range(50):
        writer.write('host_result', {'host': 'h%d' % n})
    fsyncs_before = len(synced_sizes)
    writer.write('task_start', {})
    assert synced_sizes[-1] == os.path.getsize(writer.path)
    # the 50 results were committed in a few group fsyncs, not one each
    assert len(synced_sizes) - fsyncs_before <= 10
    writer.write(ev.RUN_END, {})
    writer.close()
    assert synced_sizes[-1] == os.path.getsize(writer.path)
    assert ev.verify_file(writer.path)['status'] == 'verified'


def test_record_policy_fsync_failure_stops_the_chain(tmp_path, monkeypatch):
    def failing_fsync(fd):
        raise OSError(5, 'Input/output error')

    writer = ew.EvidenceWriter(str(tmp_path), fsync='record')
    writer.open()
    monkeypatch.setattr(os, 'fsync', failing_fsync)
    writer.write('host_result', {})
    with pytest.raises(ew.EvidenceWriterError) as err:
        writer.write('task_start', {})
    assert 'Input/output error' in str(err.value) and writer.path in str(err.value)
    with pytest.raises(ew.EvidenceWriterError):
        writer.write('host_result', {})


def test_bad_fsync_policy_is_rejected(tmp_path):
    with pytest.raises(ew.EvidenceWriterError) as err:
        ew.EvidenceWriter(str(tmp_path), fsync='sometimes')
    assert 'sometimes' in str(err.value)


WRITER_LOOP = r'''
import sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer as ew
w = ew.EvidenceWriter(sys.argv[2], fsync=sys.argv[3])
w.write("run_start", {})
print(w.path, flush=True)
n = 0
while True:
    n += 1
    w.write("host_result", {"host": "h%d" % n, "result": {"msg": "x" * 3000}})
'''


@pytest.mark.parametrize('policy', ['record', 'strict', 'none'])
def test_kill_9_leaves_every_complete_line_verifiable(tmp_path, policy):
    proc = subprocess.Popen([sys.executable, '-c', WRITER_LOOP, COLLECTIONS, str(tmp_path), policy],
                            stdout=subprocess.PIPE)
    path = proc.stdout.readline().decode().strip()
    # wait until it has written a good number of records, then kill it mid-stream
    while os.path.getsize(path) < 200000:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    res = ev.verify_file(path)
    assert res['status'] == 'incomplete', res
    assert res['records'] > 20
    assert res['first_error'] is None
