"""Runs healthit.patching.hypervisor_patch on Hyper-V nodes against the ansible.windows CONTRACT DOUBLE.

The double (collections/, links to tests/contract/windows plus a Hyper-V win_powershell) is FIRST on
ANSIBLE_COLLECTIONS_PATH so ``ansible.windows.*`` resolves to it.
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
