"""CONTRACT tests of roles/hypervisor_patch on Hyper-V cluster nodes against the ansible.windows CONTRACT DOUBLE.

They check the role's orchestration (record, drain, Windows patch through windows_patch, resume; refusal
and failure paths). They are NOT coverage of Hyper-V, failover clustering or Windows: nothing here runs
PowerShell, and the cluster's behaviour is scripted in scenarios/.
"""
import json
import os
import subprocess
import sysconfig

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DOUBLE = os.path.join(HERE, 'collections')
CATALOG = os.path.join(ROOT, 'tests', 'contract', 'windows', 'scenarios', '_catalog.yml')
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')


class HypervRun(object):
    """One ansible-playbook run: per host the patch_result, and the double's state (call log, cluster)."""

    def __init__(self, base):
        self.scenario_dir = os.path.join(base, 'scenarios')
        os.makedirs(self.scenario_dir)
        with open(CATALOG, encoding='utf-8') as f:
            shared = yaml.safe_load(f)
        for name in sorted(os.listdir(os.path.join(HERE, 'scenarios'))):
            with open(os.path.join(HERE, 'scenarios', name), encoding='utf-8') as f:
                merged = dict(shared, **(yaml.safe_load(f) or {}))
            with open(os.path.join(self.scenario_dir, name), 'w', encoding='utf-8') as f:
                yaml.safe_dump(merged, f, sort_keys=False)
        env = dict(os.environ)
        env.update(
            PATH=VENV_BIN + os.pathsep + env.get('PATH', ''),
            ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
            ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([
                DOUBLE, os.path.join(ROOT, '.build', 'collections'), sysconfig.get_paths()['purelib']]),
            HEALTHIT_WINDOWS_DOUBLE_DIR=self.scenario_dir,
            HEALTHIT_AUDIT_DIR=os.path.join(base, 'evidence'),
            HEALTHIT_PATCH_STATE_DIR=os.path.join(base, 'state'),
            ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
            ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
            ANSIBLE_NOCOLOR='1',
        )
        proc = subprocess.run(
            [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', os.path.join(HERE, 'inventory', 'hosts.yml'),
             os.path.join(HERE, 'playbooks', 'hypervisor_patch.yml')],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
        self.rc, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError('ansible-playbook printed no JSON (rc=%s)\n%s\n%s'
                                 % (proc.returncode, proc.stdout[-5000:], proc.stderr[-5000:])) from None
        self.stats = data.get('stats', {})
        self.results = {}
        for play in data.get('plays', []):
            for task in play.get('tasks', []):
                for host, result in task.get('hosts', {}).items():
                    # the last patch_result printed wins: the hypervisor's, after windows_patch's own
                    if 'patch_result' in result:
                        self.results[host] = result['patch_result']

    def result(self, host):
        assert host in self.results, 'no patch_result for %s\n%s' % (host, self.stderr[-3000:])
        return self.results[host]

    def state(self, host):
        with open(os.path.join(self.scenario_dir, '%s.state.json' % host), encoding='utf-8') as f:
            return json.load(f)

    def probes(self, host):
        return [c['args']['probe'] for c in self.state(host)['calls'] if c['module'] == 'win_powershell']


@pytest.fixture(scope='module')
def hyperv_run(tmp_path_factory):
    return HypervRun(str(tmp_path_factory.mktemp('hyperv-double')))


pytestmark = pytest.mark.contract


def _actions(result):
    return [(a['guest'], a['action'], a['result']) for a in result['actions']]


def test_drained_patched_resumed(hyperv_run):
    result = hyperv_run.result('hv-ok')
    assert result['platform'] == 'hyperv_hypervisor'
    assert result['status'] == 'patched' and result['rebooted'] is True
    assert sorted(result['after']['new_kbs']) == ['KB5034439', 'KB890830']
    assert _actions(result) == [
        ('ehr-app-02', 'record', 'ok'), ('lis-db-02', 'record', 'ok'),
        ('', 'drain', 'ok'), ('', 'host_os', 'patched'), ('', 'resume', 'ok')]
    # The drain came before any update and the resume after the last one, in the double's call log.
    calls = [c['module'] if c['module'] != 'win_powershell' else c['args']['probe']
             for c in hyperv_run.state('hv-ok')['calls']]
    assert calls.index('hyperv_drain') < calls.index('win_updates')
    assert calls.index('hyperv_resume') > max(i for i, c in enumerate(calls) if c in ('win_updates', 'win_reboot'))
    cluster = hyperv_run.state('hv-ok')['cluster']
    assert cluster['state'] == 'Up' and cluster['vms_here'] == ['ehr-app-02', 'lis-db-02']
    assert hyperv_run.stats['hv-ok']['failures'] == 0


def test_incomplete_drain_resumes_and_does_not_patch(hyperv_run):
    result = hyperv_run.result('hv-drainfail')
    assert result['status'] == 'failed'
    assert 'not Completed' in result['reason']
    assert ('', 'drain', 'failed') in _actions(result) and ('', 'resume', 'ok') in _actions(result)
    modules = [c['module'] for c in hyperv_run.state('hv-drainfail')['calls']]
    assert 'win_updates' not in modules and 'win_reboot' not in modules
    assert hyperv_run.state('hv-drainfail')['cluster']['state'] == 'Up'
    assert hyperv_run.stats['hv-drainfail']['failures'] == 1


def test_paused_node_refused_untouched(hyperv_run):
    result = hyperv_run.result('hv-paused')
    assert result['status'] == 'skipped'
    assert 'is Paused, not Up' in result['reason']
    assert hyperv_run.probes('hv-paused') == ['hyperv_node']
    assert hyperv_run.state('hv-paused')['cluster']['state'] == 'Paused'
    assert hyperv_run.stats['hv-paused']['failures'] == 1


def test_windows_patch_failure_resumes_node(hyperv_run):
    result = hyperv_run.result('hv-kbfail')
    assert result['status'] == 'failed'
    assert result['host_os']['status'] in ('failed', 'rolled_back')
    assert _actions(result)[-1] == ('', 'resume', 'ok')
    probes = hyperv_run.probes('hv-kbfail')
    assert probes.index('hyperv_drain') < probes.index('hyperv_resume')
    assert hyperv_run.state('hv-kbfail')['cluster']['state'] == 'Up'
    assert hyperv_run.stats['hv-kbfail']['failures'] == 1
