"""The hipaa_audit callback in real ansible-playbook runs against localhost (data/hipaa_audit/)."""
import getpass
import hashlib
import json
import os
import stat
import subprocess
import sys

import pytest
import yaml

from ansible.release import __version__ as core_version

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
DATA = os.path.join(os.path.dirname(__file__), 'data', 'hipaa_audit')
PLAYBOOK = os.path.join(DATA, 'secrets_playbook.yml')
BIN = os.path.dirname(sys.executable)
with open(os.path.join(DATA, 'expectations.yml')) as f:
    EXPECT = yaml.safe_load(f)


def _env(evidence_dir, **extra):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(('HEALTHIT_AUDIT_', 'ANSIBLE_')) or name == 'JOB_ID':
            del env[name]
    env.update(
        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
        # localhost only: the lab's inventory plugin is not needed here
        ANSIBLE_INVENTORY_ENABLED='ansible.builtin.host_list',
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR='1',
        HEALTHIT_AUDIT_DIR=str(evidence_dir),
        PATH=BIN + os.pathsep + env.get('PATH', ''),
    )
    env.update(extra)
    return env


def _play(evidence_dir, *args, env=None, playbook=PLAYBOOK, wait=True):
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', playbook]
    for k, v in EXPECT['extra_vars'].items():
        cmd += ['-e', '%s=%s' % (k, v)]
    cmd += list(args)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env or _env(evidence_dir), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-4000:] + err[-4000:]
    return out + err


def _records(path):
    with open(path, 'rb') as handle:
        return [json.loads(line) for line in handle.read().splitlines()]


def _only_file(directory):
    files = [os.path.join(str(directory), n) for n in os.listdir(str(directory)) if n.endswith('.jsonl')]
    assert len(files) == 1, files
    return files[0]


@pytest.fixture(scope='module')
def plain_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp('evidence') / 'store'
    _play(directory, '--limit', 'localhost')
    return directory, _only_file(directory)


def test_secrets_never_reach_the_file(plain_run):
    _directory, path = plain_run
    with open(path, 'rb') as handle:
        data = handle.read()
    for secret in EXPECT['secrets']:
        assert secret.encode() not in data, secret
    assert ev.verify_file(path)['status'] == 'verified'


def test_file_and_directory_are_private(plain_run):
    directory, path = plain_run
    assert stat.S_IMODE(os.stat(str(directory)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_records_follow_the_run(plain_run):
    _directory, path = plain_run
    records = _records(path)
    assert [r['type'] for r in records] == EXPECT['record_types']
    results = [r for r in records if r['type'] == 'host_result']
    for got, want in zip(results, EXPECT['host_results']):
        assert got['host'] == 'localhost'
        for k, v in want.items():
            assert got[k] == v, (k, got)
    report = results[0]['result']['patch_result']
    assert report['after'] == {'labpkg': '1.1'} and report['admin_password'] == '[redacted]'
    assert results[1]['result']['censored'].startswith('[no_log')
    assert set(results[4]['result']) >= {'rc', 'msg'} and results[4]['result']['rc'] == 1
    for r in results:
        assert 'invocation' not in r['result'] and 'stdout' not in r['result'] and 'args' not in r
    task_starts = [r for r in records if r['type'] == 'task_start']
    assert task_starts[0]['task_path'].startswith(PLAYBOOK + ':')
    assert {r['task_uuid'] for r in task_starts} == {r['task_uuid'] for r in results}


def test_run_start_says_who_what_where(plain_run):
    _directory, path = plain_run
    start = _records(path)[0]
    with open(PLAYBOOK, 'rb') as handle:
        assert start['playbook'] == {'path': PLAYBOOK, 'sha256': hashlib.sha256(handle.read()).hexdigest()}
    assert start['change_ticket'] == 'CHG0099001'
    assert start['extra_vars'] == EXPECT['recorded_extra_vars']
    assert start['operator'] == {'user': getpass.getuser(), 'source': 'local', 'controller_user': getpass.getuser(),
                                 'sudo_user': os.environ.get('SUDO_USER')}
    assert start['awx'] is None
    assert start['check_mode'] is False and start['limit'] == 'localhost'
    assert start['inventory_sources'] == ['localhost,']
    assert start['ansible_core_version'] == core_version
    with open(os.path.join(ROOT, 'galaxy.yml')) as handle:
        assert start['collection'] == {'name': 'healthit.patching', 'version': yaml.safe_load(handle)['version']}
    assert start['evidence']['fsync'] == 'record' and start['evidence']['hmac'] is False
    assert start['controller']['hostname']


def test_run_end_closes_with_statistics(plain_run):
    _directory, path = plain_run
    records = _records(path)
    end = records[-1]
    assert end['type'] == 'run_end' and end['records'] == len(records)
    assert end['outcome'] == 'successful'
    assert end['stats']['localhost'] == {'ok': 6, 'changed': 1, 'failures': 0, 'unreachable': 0, 'skipped': 1,
                                         'rescued': 0, 'ignored': 1}


def test_awx_identity_check_mode_and_hmac(tmp_path):
    key = tmp_path / 'evidence.key'
    key.write_bytes(os.urandom(32).hex().encode())
    env = _env(tmp_path / 'ev', JOB_ID='4242', HEALTHIT_AUDIT_HMAC_KEY_FILE=str(key))
    _play(tmp_path / 'ev', '--check', '-e', 'awx_user_name=alice', '-e', 'awx_job_id=4242',
          '-e', json.dumps({'awx_job_template_name': 'Patch test wave'}), env=env)
    path = _only_file(tmp_path / 'ev')
    start = _records(path)[0]
    assert start['operator']['user'] == 'alice' and start['operator']['source'] == 'awx'
    assert start['operator']['controller_user'] == getpass.getuser()
    assert start['awx']['job_id'] == '4242' and start['awx']['env_job_id'] == '4242'
    assert start['awx']['job_template_name'] == 'Patch test wave'
    assert start['check_mode'] is True
    assert start['evidence']['hmac'] is True and start['evidence']['hmac_key_id'] == ev.key_id(key.read_bytes())
    assert ev.verify_file(path, ev.load_hmac_key(str(key)))['hmac'] == 'verified'


def test_two_runs_at_once_write_two_verified_files(tmp_path):
    procs = [_play(tmp_path, wait=False) for _i in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    results, summary = ev.verify_path(str(tmp_path))
    assert summary == {'verified': 2, 'incomplete': 0, 'tampered': 0}
    assert results[0]['run_id'] != results[1]['run_id']


def test_ini_option_sets_the_evidence_directory(tmp_path):
    cfg = tmp_path / 'ansible.cfg'
    cfg.write_text('[defaults]\ncollections_path = %s\ncallbacks_enabled = healthit.patching.hipaa_audit\n'
                   '[callback_hipaa_audit]\nevidence_dir = %s\nfsync = batch\n'
                   % (os.path.join(ROOT, '.build', 'collections'), tmp_path / 'from_ini'))
    env = _env(tmp_path / 'unused', ANSIBLE_CONFIG=str(cfg))
    del env['HEALTHIT_AUDIT_DIR']
    _play(tmp_path, env=env)
    path = _only_file(tmp_path / 'from_ini')
    assert _records(path)[0]['evidence']['fsync'] == 'batch'
    assert ev.verify_file(path)['status'] == 'verified'


def test_unusable_evidence_directory_is_loud(tmp_path):
    blocker = tmp_path / 'not-a-dir'
    blocker.write_text('x')
    output = _play(tmp_path, env=_env(blocker / 'evidence'))
    assert 'NO AUDIT EVIDENCE IS BEING RECORDED' in output and str(blocker / 'evidence') in output


@pytest.mark.parametrize('plugin_type,name', [('callback', 'healthit.patching.hipaa_audit'),
                                              ('module', 'healthit.patching.audit_verify'),
                                              ('module', 'healthit.patching.evidence_bundle')])
def test_documentation_renders(plugin_type, name, tmp_path):
    proc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-t', plugin_type, name], cwd=ROOT,
                          env=_env(tmp_path), capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and name in proc.stdout, proc.stderr
    assert 'WARNING' not in proc.stderr, proc.stderr


def test_documented_extra_var_default_is_the_writers():
    """The allow-list an operator reads in ansible-doc is the one the writer's callers get."""
    from ansible_collections.healthit.patching.plugins.callback import hipaa_audit
    from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer
    documented = yaml.safe_load(hipaa_audit.DOCUMENTATION)['options']['extra_var_fields']['default']
    assert documented == list(_evidence_writer.DEFAULT_EXTRA_VAR_FIELDS)
