"""The evidence chain end to end on a lab host: a complete run verifies, a run killed with SIGKILL is incomplete.

Plays tests/integration/audit_lab.yml through the lab inventory against lnx-test-01 with the callback enabled
(ansible.cfg) and a fresh evidence directory, then verifies the files with the audit_verify module the way an
operator does (`ansible localhost -m healthit.patching.audit_verify`).
"""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import ROOT, VENV_BIN, ansible_adhoc, ansible_playbook, lab_env

HOST = 'lnx-test-01'
PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'audit_lab.yml')
SECRETS = ('TaskArgValue-SECRET', 'ExtraVarValue-SECRET', 'NoLogOutput-SECRET')
EXTRA = ['-e', 'audit_lab_db_password=ExtraVarValue-SECRET', '-e', 'patch_change_ticket=CHG-LAB-0004']


def _records(path):
    with open(path, 'rb') as handle:
        return [json.loads(line) for line in handle.read().splitlines()]


def _files(directory):
    return sorted(os.path.join(directory, n) for n in os.listdir(directory) if n.endswith('.jsonl'))


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError('timed out waiting for ' + what)


@pytest.fixture(scope='module')
def evidence(lab, tmp_path_factory):
    store = str(tmp_path_factory.mktemp('audit') / 'evidence')
    env = lab_env(HEALTHIT_AUDIT_DIR=store)

    # Run 1: complete.
    ansible_playbook(PLAYBOOK, *EXTRA, env=env, timeout=900)
    (complete,) = _files(store)

    # Run 2: killed with SIGKILL (the whole process group) while it holds in a pause.
    proc = subprocess.Popen([os.path.join(VENV_BIN, 'ansible-playbook'), PLAYBOOK, *EXTRA,
                             '-e', 'audit_lab_hold_seconds=600'], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def holding():
            others = [f for f in _files(store) if f != complete]
            return others and any(r.get('type') == 'task_start' and r.get('task') == 'Hold the run'
                                  for r in _records(others[0]))
        _wait_for(holding, 600, 'the second run to reach its pause')
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    (killed,) = [f for f in _files(store) if f != complete]
    return store, complete, killed


@pytest.mark.lab
def test_audit_verify_reports_complete_and_killed_runs(evidence, tmp_path):
    store, complete, killed = evidence
    # the verifying ad-hoc run records its own evidence elsewhere
    results = ansible_adhoc('localhost', 'healthit.patching.audit_verify', 'path=%s' % store,
                            env=lab_env(HEALTHIT_AUDIT_DIR=str(tmp_path / 'verifier-evidence')))
    res = results['localhost']
    assert res['verified'] is True and res['summary'] == {'verified': 1, 'incomplete': 1, 'tampered': 0}
    by_path = {f['path']: f for f in res['files']}
    assert by_path[complete]['status'] == 'verified' and by_path[complete]['first_error'] is None
    assert by_path[killed]['status'] == 'incomplete' and by_path[killed]['first_error'] is None
    with open(killed, 'rb') as handle:
        complete_lines = handle.read().count(b'\n')
    assert by_path[killed]['records'] == complete_lines > 5


@pytest.mark.lab
def test_killed_run_fails_when_incomplete_runs_must_fail(evidence, tmp_path):
    _store, _complete, killed = evidence
    results = ansible_adhoc('localhost', 'healthit.patching.audit_verify', 'path=%s fail_on_incomplete=true' % killed,
                            env=lab_env(HEALTHIT_AUDIT_DIR=str(tmp_path / 'verifier-evidence')), check=False)
    assert results['localhost']['failed'] is True and 'incomplete' in results['localhost']['msg']


@pytest.mark.lab
def test_complete_run_records_the_lab_host(evidence):
    _store, complete, _killed = evidence
    records = _records(complete)
    start, end = records[0], records[-1]
    assert start['change_ticket'] == 'CHG-LAB-0004'
    assert start['playbook']['path'] == PLAYBOOK
    assert any(os.path.join(ROOT, 'inventories', 'lab') in src for src in start['inventory_sources'])
    assert end['type'] == 'run_end' and end['stats'][HOST]['failures'] == 0
    reports = [r for r in records if r['type'] == 'host_result' and r['host'] == HOST and 'patch_result' in r['result']]
    assert reports and reports[-1]['result']['patch_result']['status'] == 'current'
    assert reports[-1]['result']['patch_result']['before'].get('labpkg-web')
    no_log = [r for r in records if r['type'] == 'host_result' and r['task'] == 'Print a secret in a no_log task']
    assert no_log and no_log[0]['no_log'] is True
    guard = [r for r in records if r['type'] == 'host_result' and r['host'] == 'localhost' and r['status'] == 'failed']
    assert not guard, guard


@pytest.mark.lab
def test_killed_run_stops_at_the_pause(evidence):
    _store, _complete, killed = evidence
    records = _records(killed)
    assert records[0]['type'] == 'run_start' and all(r['type'] != 'run_end' for r in records)
    assert records[-1]['type'] == 'task_start' and records[-1]['task'] == 'Hold the run'


@pytest.mark.lab
def test_no_secret_reaches_either_file(evidence):
    _store, complete, killed = evidence
    for path in (complete, killed):
        with open(path, 'rb') as handle:
            data = handle.read()
        for secret in SECRETS:
            assert secret.encode() not in data, (secret, path)


GUARD_PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'audit_guard.yml')


def _guard(*args, **env):
    # a value inherited from an outer run must not count as this run's recording
    for name in ('HEALTHIT_AUDIT_EVIDENCE_FILE', 'HEALTHIT_AUDIT_RUN_ID'):
        env.setdefault(name, '')
    e = lab_env(**env)
    if not env.get('HEALTHIT_AUDIT_HMAC_KEY_FILE'):
        e.pop('HEALTHIT_AUDIT_HMAC_KEY_FILE', None)
    return ansible_playbook(GUARD_PLAYBOOK, *args, env=e, check=False, timeout=600)


def test_guard_lets_a_recorded_run_through(tmp_path):
    proc = _guard(HEALTHIT_AUDIT_DIR=str(tmp_path / 'evidence'))
    assert proc.returncode == 0, proc.stdout[-3000:]
    (path,) = _files(str(tmp_path / 'evidence'))
    assert 'guard passed for ' + path in proc.stdout


@pytest.mark.parametrize('case', ['callback disabled', 'directory unusable', 'key unreadable', 'hmac required'])
def test_guard_refuses_to_patch_without_evidence(tmp_path, case):
    env = {'HEALTHIT_AUDIT_DIR': str(tmp_path / 'evidence')}
    expected = 'No evidence, no patching'
    args = []
    if case == 'callback disabled':
        env['ANSIBLE_CALLBACKS_ENABLED'] = 'ansible.posix.profile_tasks'
        expected += ': the audit callback healthit.patching.hipaa_audit is not enabled'
    elif case == 'directory unusable':
        (tmp_path / 'file').write_text('x')
        env['HEALTHIT_AUDIT_DIR'] = str(tmp_path / 'file' / 'evidence')
    elif case == 'key unreadable':
        env['HEALTHIT_AUDIT_HMAC_KEY_FILE'] = str(tmp_path / 'missing.key')
        expected += ': healthit.patching.hipaa_audit is enabled but is not recording this run'
    else:
        args = ['-e', 'audit_guard_require_hmac=true']
        expected += ': HMAC-keyed evidence is required'
    proc = _guard(*args, **env)
    assert proc.returncode != 0
    assert expected in proc.stdout + proc.stderr, proc.stdout[-3000:]
    assert 'PATCHING STEP RAN' not in proc.stdout
