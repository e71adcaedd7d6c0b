"""Running a playbook against the ansible.windows CONTRACT DOUBLE and reading what it decided.

Shared by tests/contract/windows (through conftest.py) and tests/contract/hyperv, which loads this file by
path. The double (collections/ansible_collections/ansible/windows) is put FIRST on ANSIBLE_COLLECTIONS_PATH,
before the checkout's .build/collections and the venv's site-packages, so ``ansible.windows.*`` resolves to it.
"""
import json
import os
import subprocess
import sysconfig

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DOUBLE = os.path.join(HERE, 'collections')
SCENARIOS = os.path.join(HERE, 'scenarios')
INVENTORY = os.path.join(HERE, 'inventory', 'hosts.yml')
PLAYBOOK = os.path.join(HERE, 'playbooks', 'windows_patch.yml')
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')


def write_scenarios(directory, scenarios=SCENARIOS):
    """Each host's scenario is the shared catalog (windows/scenarios/_catalog.yml) overlaid with the host's own
    file from ``scenarios``."""
    with open(os.path.join(SCENARIOS, '_catalog.yml'), encoding='utf-8') as f:
        shared = yaml.safe_load(f)
    os.makedirs(directory, exist_ok=True)
    for name in sorted(os.listdir(scenarios)):
        if name.startswith('_') or not name.endswith('.yml'):
            continue
        with open(os.path.join(scenarios, name), encoding='utf-8') as f:
            own = yaml.safe_load(f) or {}
        merged = dict(shared)
        merged.update(own)
        with open(os.path.join(directory, name), 'w', encoding='utf-8') as f:
            yaml.safe_dump(merged, f, sort_keys=False)


def double_env(scenario_dir, evidence_dir, double=DOUBLE):
    env = dict(os.environ)
    env.update(
        PATH=VENV_BIN + os.pathsep + env.get('PATH', ''),
        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([
            double, os.path.join(ROOT, '.build', 'collections'), sysconfig.get_paths()['purelib']]),
        HEALTHIT_WINDOWS_DOUBLE_DIR=scenario_dir,
        HEALTHIT_AUDIT_DIR=evidence_dir,
        HEALTHIT_PATCH_STATE_DIR=os.path.join(evidence_dir, 'state'),
        ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_FORCE_COLOR='0',
        ANSIBLE_RETRY_FILES_ENABLED='0',
    )
    return env


class Run(object):
    """One ansible-playbook run: per host, the patch_result, the patch_progress records and the double's calls.

    A role that runs another (hypervisor_patch runs windows_patch) prints patch_result twice: the last one wins.
    """

    INVENTORY = INVENTORY
    PLAYBOOK = PLAYBOOK
    DOUBLE = DOUBLE

    def __init__(self, scenario_dir, evidence_dir, *args):
        self.scenario_dir = scenario_dir
        proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', self.INVENTORY, self.PLAYBOOK, *args],
                              cwd=ROOT, env=double_env(scenario_dir, evidence_dir, self.DOUBLE), capture_output=True,
                              text=True, timeout=900, check=False)
        self.rc, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError('ansible-playbook did not print JSON (rc=%s)\n%s\n%s'
                                 % (proc.returncode, proc.stdout[-5000:], proc.stderr[-5000:])) from None
        self.stats = data.get('stats', {})
        self.results, self.progress, self.failed_tasks = {}, {}, {}
        for play in data.get('plays', []):
            for task in play.get('tasks', []):
                for host, result in task.get('hosts', {}).items():
                    if 'patch_result' in result:
                        self.results[host] = result['patch_result']
                    if 'patch_progress' in result:
                        self.progress.setdefault(host, []).append(result['patch_progress'])
                    if result.get('failed') and not result.get('skipped'):
                        self.failed_tasks.setdefault(host, []).append(task['task']['name'])

    def result(self, host):
        assert host in self.results, 'no patch_result for %s\n%s' % (host, self.stderr[-3000:])
        return self.results[host]

    def state(self, host):
        with open(os.path.join(self.scenario_dir, '%s.state.json' % host), encoding='utf-8') as f:
            return json.load(f)

    def calls(self, host, module=None):
        """The double's call log; a host the role never contacted has none."""
        if not os.path.exists(os.path.join(self.scenario_dir, '%s.state.json' % host)):
            return []
        return [c for c in self.state(host)['calls'] if module is None or c['module'] == module]
