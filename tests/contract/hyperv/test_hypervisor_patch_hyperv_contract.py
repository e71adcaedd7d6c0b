"""CONTRACT tests of roles/hypervisor_patch on Hyper-V cluster nodes against the ansible.windows CONTRACT DOUBLE.

They check the role's orchestration (record, drain, Windows patch through windows_patch, resume; refusal
and failure paths). They are NOT coverage of Hyper-V, failover clustering or Windows: nothing here runs
PowerShell, and the cluster's behaviour is scripted in scenarios/.
"""
import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# The Windows contract tests' runner, loaded by path: a second conftest here would shadow other directories' own.
_SPEC = importlib.util.spec_from_file_location(
    'windows_double_run', os.path.join(os.path.dirname(HERE), 'windows', 'double_run.py'))
double_run = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(double_run)


class HypervRun(double_run.Run):
    """hypervisor_patch on the Hyper-V nodes: per host the last patch_result (the hypervisor's, printed after
    windows_patch's own), and the double's state (call log, cluster)."""

    INVENTORY = os.path.join(HERE, 'inventory', 'hosts.yml')
    PLAYBOOK = os.path.join(HERE, 'playbooks', 'hypervisor_patch.yml')
    DOUBLE = os.path.join(HERE, 'collections')

    def __init__(self, base):
        scenario_dir = os.path.join(base, 'scenarios')
        double_run.write_scenarios(scenario_dir, os.path.join(HERE, 'scenarios'))
        super().__init__(scenario_dir, os.path.join(base, 'evidence'))

    def probes(self, host):
        return [c['args']['probe'] for c in self.calls(host, 'win_powershell')]


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
    # A sentence on success too: what Windows got and that the node came back.
    assert result['reason'].startswith('Windows: ') and result['reason'].endswith('; node HV-01 drained and resumed (Up)')
    assert result['reason'] != 'Windows: no change reported; node HV-01 drained and resumed (Up)'
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
