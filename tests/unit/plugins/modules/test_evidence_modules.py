"""audit_verify and evidence_bundle run the way an operator runs them: `ansible localhost -m ...`."""
import json
import os
import subprocess
import sys

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev
from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer as ew

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
BIN = os.path.dirname(sys.executable)


def _adhoc(tmp_path, module, args, *extra):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(('HEALTHIT_AUDIT_', 'ANSIBLE_')):
            del env[name]
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_INVENTORY_ENABLED='ansible.builtin.host_list',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               # the ad-hoc run records its own evidence elsewhere, not into the store under test
               HEALTHIT_AUDIT_DIR=str(tmp_path / 'adhoc-evidence'))
    proc = subprocess.run([os.path.join(BIN, 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local',
                           '-m', module, '-a', args] + list(extra),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    data = json.loads(proc.stdout)
    return proc.returncode, data['plays'][0]['tasks'][0]['hosts']['localhost']


def _store(tmp_path, runs=2, key=None):
    store = tmp_path / 'store'
    paths = []
    for _i in range(runs):
        w = ew.EvidenceWriter(str(store), hmac_key=key)
        w.write(ev.RUN_START, {'evidence': {'hmac': key is not None,
                                            'hmac_key_id': ev.key_id(key) if key else None}})
        w.write('host_result', {'host': 'lnx-test-01', 'status': 'changed'})
        w.write(ev.RUN_END, {'outcome': 'successful'})
        w.close()
        paths.append(w.path)
    return store, paths


def test_verify_directory_ok(tmp_path):
    store, paths = _store(tmp_path)
    rc, res = _adhoc(tmp_path, 'healthit.patching.audit_verify', 'path=%s' % store)
    assert rc == 0 and res['verified'] is True and res['changed'] is False
    assert [f['path'] for f in res['files']] == sorted(paths)
    assert all(f['sha256'] == ev.file_sha256(f['path']) for f in res['files'])


def test_verify_tampered_file_fails_naming_line_and_seq(tmp_path):
    store, paths = _store(tmp_path)
    with open(paths[0], 'rb') as handle:
        data = handle.read()
    with open(paths[0], 'wb') as handle:
        handle.write(data.replace(b'lnx-test-01', b'lnx-test-02'))
    rc, res = _adhoc(tmp_path, 'healthit.patching.audit_verify', 'path=%s' % paths[0])
    assert rc != 0 and res['failed'] is True
    assert 'line 2 (seq 1)' in res['msg'] and 'record edited' in res['msg'] and paths[0] in res['msg']
    assert res['files'][0]['status'] == 'tampered'


def test_verify_require_hmac(tmp_path):
    key = b'0123456789abcdef0123456789abcdef'
    store, _paths = _store(tmp_path, key=key)
    key_file = tmp_path / 'key'
    key_file.write_bytes(key)
    rc, res = _adhoc(tmp_path, 'healthit.patching.audit_verify',
                     'path=%s hmac_key_file=%s require_hmac=true' % (store, key_file))
    assert rc == 0 and {f['hmac'] for f in res['files']} == {'verified'}
    rc, res = _adhoc(tmp_path, 'healthit.patching.audit_verify', 'path=%s require_hmac=true' % store)
    assert rc != 0 and 'no hmac_key_file' in res['msg']


def test_bundle_idempotent_and_check_mode(tmp_path):
    store, _paths = _store(tmp_path, runs=3)
    dest = tmp_path / 'evidence-q4.tar.gz'
    args = 'evidence_dir=%s dest=%s from_date=2026-01-01 to_date=2099-12-31' % (store, dest)
    rc, res = _adhoc(tmp_path, 'healthit.patching.evidence_bundle', args, '--check')
    assert rc == 0 and res['changed'] is True and not dest.exists()
    rc, first = _adhoc(tmp_path, 'healthit.patching.evidence_bundle', args)
    assert rc == 0 and first['changed'] is True and first['files'] == 3
    rc, second = _adhoc(tmp_path, 'healthit.patching.evidence_bundle', args)
    assert rc == 0 and second['changed'] is False and second['sha256'] == first['sha256']
    assert ev.file_sha256(str(dest)) == first['sha256']


def test_bundle_bad_date_is_a_clear_error(tmp_path):
    store, _paths = _store(tmp_path, runs=1)
    rc, res = _adhoc(tmp_path, 'healthit.patching.evidence_bundle',
                     'evidence_dir=%s dest=%s from_date=2026-13-01' % (store, tmp_path / 'b.tar.gz'))
    assert rc != 0 and 'from_date' in res['msg'] and 'YYYY-MM-DD' in res['msg']
