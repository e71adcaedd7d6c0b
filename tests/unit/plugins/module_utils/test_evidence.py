"""The evidence chain verifier against real files tampered as the data table says (data/evidence/tamper.yml)."""
import datetime
import json
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev
from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer as ew

DATA = os.path.join(os.path.dirname(__file__), 'data', 'evidence')
RUN_KEY = b'k' * 32
OTHER_KEY = b'o' * 32

with open(os.path.join(DATA, 'tamper.yml')) as f:
    CASES = yaml.safe_load(f)


class FixedClock(object):
    def __init__(self):
        self.now = datetime.datetime(2026, 11, 22, 6, 55, 1, tzinfo=datetime.timezone.utc)

    def __call__(self):
        self.now += datetime.timedelta(milliseconds=250)
        return self.now


def write_run(directory, key=None, run_id=None):
    """A small but real run written by the writer: 7 records."""
    writer = ew.EvidenceWriter(str(directory), hmac_key=key, run_id=run_id, clock=FixedClock())
    writer.write(ev.RUN_START, {
        'change_ticket': 'CHG0001234', 'playbook': {'path': '/pb/wave.yml', 'sha256': '0' * 64},
        'evidence': {'hmac': key is not None, 'hmac_key_id': ev.key_id(key) if key else None},
    })
    writer.write('play_start', {'play': 'Patch the test wave', 'hosts': ['test']})
    writer.write('task_start', {'action': 'ansible.builtin.debug', 'task': 'Report', 'task_uuid': 'u1'})
    for host, status in (('lnx-test-01', 'ok'), ('lnx-test-02', 'changed'), ('sw-access-01', 'ok')):
        writer.write('host_result', {'host': host, 'status': status, 'task': 'Report',
                                     'result': {'patch_result': {'status': 'patched'}}})
    writer.write(ev.RUN_END, {'outcome': 'successful', 'stats': {}})
    writer.close()
    return writer.path


def _lines(path):
    with open(path, 'rb') as handle:
        return handle.read().split(b'\n')[:-1]


def _save(path, lines, tail=b''):
    with open(path, 'wb') as handle:
        handle.write(b''.join(line + b'\n' for line in lines) + tail)


def _key(name):
    return {'run': RUN_KEY, 'other': OTHER_KEY, 'none': None, None: None}[name]


def apply(path, steps, tmp_path):
    tail = b''
    lines = _lines(path)
    for step in steps:
        op = step['op']
        if op == 'edit':
            i = step['line'] - 1
            assert step['find'].encode() in lines[i], 'case does not match the file: %r' % step
            lines[i] = lines[i].replace(step['find'].encode(), step['replace'].encode(), 1)
        elif op == 'delete':
            del lines[step['line'] - 1]
        elif op == 'swap':
            a, b = step['line'] - 1, step['other'] - 1
            lines[a], lines[b] = lines[b], lines[a]
        elif op == 'reseq':
            fixed = []
            for n, raw in enumerate(lines):
                rec = json.loads(raw)
                rec['seq'] = n
                fixed.append(ev.canonical_json(rec))
            lines = fixed
        elif op == 'truncate_line':
            i = step['line'] - 1
            lines[i] = lines[i][:step['keep']]
        elif op == 'cut_tail':
            tail = lines.pop()[:step['keep']]
        elif op == 'empty':
            lines = []
        elif op == 'raw_append':
            tail = step['data'].encode()
        elif op == 'drop_field':
            i = step['line'] - 1
            rec = json.loads(lines[i])
            del rec[step['field']]
            lines[i] = ev.canonical_json(rec)
        elif op == 'forge_append':
            last = json.loads(lines[-1])
            forged = {'v': 1, 'seq': last['seq'] + 1, 'ts': '2026-11-22T07:00:00.000000Z',
                      'run_id': last['run_id'], 'type': step.get('type', 'host_result'),
                      'host': 'lnx-prod-01', 'status': 'ok', 'result': {'patch_result': {'status': 'patched'}}}
            lines.append(ev.seal(forged, last['hash'], _key(step.get('forger_key')))[:-1])
        elif op == 'splice_other_run':
            other_dir = tmp_path / 'other'
            other = write_run(other_dir)
            i = step['line'] - 1
            lines[i] = _lines(other)[i]
        else:
            raise AssertionError('unknown op %s' % op)
    _save(path, lines, tail)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_tamper_case(case, tmp_path):
    key = RUN_KEY if case.get('keyed') else None
    path = write_run(tmp_path / 'ev', key=key)
    apply(path, case['tamper'], tmp_path)
    res = ev.verify_file(path, _key(case.get('verify_key')))
    assert res['status'] == case['status'], res
    if case['status'] == ev.STATUS_TAMPERED:
        err = res['first_error']
        assert err['line'] == case['line'], err
        if 'seq' in case:
            assert err['seq'] == case['seq'], err
        assert case['reason'] in err['reason'], err
    else:
        assert res['first_error'] is None
    if 'partial_tail' in case:
        assert res['partial_tail'] is case['partial_tail']
    if 'records' in case:
        assert res['records'] == case['records']
    if 'hmac' in case:
        assert res['hmac'] == case['hmac']
    with open(path, 'rb') as handle:
        assert res['sha256'] == ev.sha256_hex(handle.read())


def test_every_tampering_kind_the_issue_names_is_covered():
    ops = set(step['op'] for case in CASES for step in case['tamper'])
    assert {'edit', 'delete', 'swap', 'truncate_line', 'cut_tail', 'forge_append'} <= ops


def test_canonical_form_is_sorted_compact_utf8():
    assert ev.canonical_json({'b': 1, 'a': ['é', None]}) == '{"a":["é",null],"b":1}'.encode('utf-8')
    with pytest.raises(ValueError):
        ev.canonical_json({'x': float('nan')})


def test_hash_covers_prev_hash():
    rec = {'v': 1, 'seq': 0, 'type': 'x'}
    line_a = ev.seal(dict(rec), ev.GENESIS_HASH)
    line_b = ev.seal(dict(rec), '1' * 64)
    assert json.loads(line_a)['hash'] != json.loads(line_b)['hash']


def test_directory_verification_counts_each_status(tmp_path):
    good = write_run(tmp_path)
    bad = write_run(tmp_path)
    cut = write_run(tmp_path)
    apply(bad, [{'op': 'delete', 'line': 3}], tmp_path)
    apply(cut, [{'op': 'delete', 'line': 7}], tmp_path)
    (tmp_path / 'notes.txt').write_text('not evidence')
    results, summary = ev.verify_path(str(tmp_path))
    assert summary == {'verified': 1, 'incomplete': 1, 'tampered': 1}
    assert [r['path'] for r in results] == sorted([good, bad, cut])


def test_run_verify_fails_naming_the_first_bad_record(tmp_path):
    path = write_run(tmp_path)
    apply(path, [{'op': 'edit', 'line': 6, 'find': 'sw-access-01', 'replace': 'sw-access-02'}], tmp_path)
    result, failure = ev.run_verify({'path': str(tmp_path)})
    assert failure and 'line 6 (seq 5)' in failure and os.path.basename(path) in failure
    assert result['verified'] is False


def test_run_verify_options(tmp_path):
    keyed = write_run(tmp_path / 'k', key=RUN_KEY)
    write_run(tmp_path / 'k')
    key_file = tmp_path / 'key'
    key_file.write_bytes(RUN_KEY + b'\n')
    result, failure = ev.run_verify({'path': str(tmp_path / 'k'), 'hmac_key_file': str(key_file)})
    assert failure is None and result['summary']['verified'] == 2
    result, failure = ev.run_verify({'path': str(tmp_path / 'k'), 'hmac_key_file': str(key_file),
                                     'require_hmac': True})
    assert failure and 'no verified HMAC' in failure and keyed not in failure
    apply(keyed, [{'op': 'delete', 'line': 7}], tmp_path)
    result, failure = ev.run_verify({'path': keyed, 'fail_on_incomplete': True})
    assert failure and 'incomplete' in failure
    result, failure = ev.run_verify({'path': keyed})
    assert failure is None and result['files'][0]['status'] == 'incomplete'


def test_empty_directory_fails(tmp_path):
    result, failure = ev.run_verify({'path': str(tmp_path)})
    assert failure and 'no evidence files' in failure


@pytest.mark.parametrize('content,message', [(b'short', 'at least 16'), (None, 'cannot be read')])
def test_bad_key_file_names_the_file(tmp_path, content, message):
    key_file = tmp_path / 'key'
    if content is not None:
        key_file.write_bytes(content)
    with pytest.raises(ev.EvidenceError) as err:
        ev.load_hmac_key(str(key_file))
    assert str(key_file) in str(err.value) and message in str(err.value)


def _bundle_dir(tmp_path):
    src = tmp_path / 'ev'
    paths = [write_run(src) for _i in range(3)]
    return src, paths


def test_bundle_is_deterministic_and_complete(tmp_path):
    import tarfile
    src, paths = _bundle_dir(tmp_path)
    params = {'evidence_dir': str(src), 'dest': str(tmp_path / 'q4.tar.gz'), 'from_date': '2026-11-01',
              'to_date': '2026-11-30'}
    first, failure = ev.run_bundle(params)
    assert failure is None and first['changed'] and first['files'] == 3
    again, failure = ev.run_bundle(params)
    assert again['changed'] is False and again['sha256'] == first['sha256']
    assert ev.file_sha256(params['dest']) == first['sha256']
    assert oct(os.stat(params['dest']).st_mode & 0o777) == '0o600'
    with tarfile.open(params['dest']) as tar:
        names = tar.getnames()
        assert 'q4/MANIFEST.json' in names and 'q4/SHA256SUMS' in names
        manifest = json.load(tar.extractfile('q4/MANIFEST.json'))
        sums = tar.extractfile('q4/SHA256SUMS').read().decode()
        for path in paths:
            member = 'q4/evidence/' + os.path.basename(path)
            assert member in names
            data = tar.extractfile(member).read()
            assert ev.sha256_hex(data) + '  evidence/' + os.path.basename(path) in sums
        assert len(set(m.mtime for m in tar.getmembers())) == 1
        assert set((m.uid, m.gid) for m in tar.getmembers()) == {(0, 0)}
    assert manifest['summary'] == {'verified': 3, 'incomplete': 0, 'tampered': 0}
    assert manifest['period'] == {'from': '2026-11-01', 'to': '2026-11-30'}


def test_bundle_check_mode_writes_nothing(tmp_path):
    src, _paths = _bundle_dir(tmp_path)
    params = {'evidence_dir': str(src), 'dest': str(tmp_path / 'b.tar.gz')}
    result, failure = ev.run_bundle(params, check_mode=True)
    assert failure is None and result['changed'] and not os.path.exists(params['dest'])


def test_bundle_period_selects_by_run_start_day(tmp_path):
    src, _paths = _bundle_dir(tmp_path)
    result, failure = ev.run_bundle({'evidence_dir': str(src), 'dest': str(tmp_path / 'b.tar.gz'),
                                     'from_date': '2026-11-23'})
    assert result['files'] == 0 and 'no evidence files' in failure
    with pytest.raises(ev.EvidenceError) as err:
        ev.run_bundle({'evidence_dir': str(src), 'dest': str(tmp_path / 'b.tar.gz'), 'from_date': '22/11/2026'})
    assert 'from_date' in str(err.value) and 'YYYY-MM-DD' in str(err.value)
    with pytest.raises(ev.EvidenceError):
        ev.run_bundle({'evidence_dir': str(src), 'dest': str(tmp_path / 'b.tar.gz'),
                       'from_date': '2026-12-01', 'to_date': '2026-11-01'})


def test_bundle_packs_but_fails_on_a_tampered_file(tmp_path):
    src, paths = _bundle_dir(tmp_path)
    apply(paths[1], [{'op': 'swap', 'line': 2, 'other': 3}], tmp_path)
    params = {'evidence_dir': str(src), 'dest': str(tmp_path / 'b.tar.gz')}
    result, failure = ev.run_bundle(params)
    assert failure and 'line 2' in failure and os.path.basename(paths[1]) in failure
    assert os.path.exists(params['dest']) and result['summary']['tampered'] == 1
    result, failure = ev.run_bundle(dict(params, fail_on_tampered=False))
    assert failure is None
