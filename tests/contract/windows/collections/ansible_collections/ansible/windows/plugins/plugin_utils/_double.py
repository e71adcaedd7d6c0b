# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows for healthit.patching contract tests. Never installed for users.
"""Scripted, persisted Windows hosts for the contract double's action plugins.

A host is two files in the scenario directory (host var ``windows_double_scenario_dir`` or the
environment variable ``HEALTHIT_WINDOWS_DOUBLE_DIR``):

- ``<inventory_hostname>.yml``: the script (written by a test, never changed here);
- ``<inventory_hostname>.state.json``: what has happened so far (created from the script on first use).

Scenario keys (all optional):

- ``facts``: os_product_type (server|workstation|domain_controller), distribution, distribution_version, hostname.
- ``unreachable``: true -> every module returns unreachable.
- ``installed_kbs``: KBs installed before the run.
- ``free_disk_mb``, ``interactive_sessions``: answers of the probes of the same name.
- ``registry``: {key path: {value name: value}} present before the run (an empty dict is a key without values).
- ``services``: list of {name, display_name, state (started|stopped), start_mode (auto|delayed|manual|disabled)}.
- ``services_stopped_after_reboot``: service names that do not come back after a reboot.
- ``service_start_fails``: service names that fail to start.
- ``catalog``: {KB: {title, categories, id, browse_only, hidden, reboot_required (default true)}}.
- ``failing_kbs``: {KB: HRESULT}: these fail on every install attempt.
- ``rounds``: one entry per ``state=installed`` call, in order:
  ``offer`` (KBs Windows Update offers; installed ones are not offered), ``fail`` ({KB: HRESULT} for this
  round), ``rollback_at_reboot`` (KBs that report installed but are gone after the next reboot),
  ``exception`` ({hresult, message}: the whole task fails), ``drop_connection`` (the installs happen, then
  the connection drops and the task is unreachable).
  A ``searched`` call shows what the next round would offer and changes nothing.
- ``reboot_fails``: true -> win_reboot fails.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import importlib
import json
import os
import re
import uuid

import yaml

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

ENV_DIR = 'HEALTHIT_WINDOWS_DOUBLE_DIR'
HOSTVAR_DIR = 'windows_double_scenario_dir'

CBS_REBOOT_PENDING = r'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
WU_REBOOT_REQUIRED = r'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
SESSION_MANAGER = r'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'

# The few WUA codes the scenarios use, for the task-level failure message (the real plugin has them all).
_WUA_TEXT = {
    0x8024402C: ('WU_E_PT_WINHTTP_NAME_NOT_RESOLVED', 'Same as HTTP status 404 - name could not be resolved'),
    0x8024A007: ('WU_E_REBOOT_IN_PROGRESS', 'A reboot is in progress'),
    0x80240022: ('WU_E_ALL_UPDATES_FAILED', 'Operation failed for all the updates'),
    0x8024001E: ('WU_E_SERVICE_STOP', 'Operation did not complete because the service or system was being shut down'),
}
_CATEGORY_ALIASES = {
    'CriticalUpdates': 'Critical Updates', 'DefinitionUpdates': 'Definition Updates',
    'DeveloperKits': 'Developer Kits', 'FeaturePacks': 'Feature Packs', 'SecurityUpdates': 'Security Updates',
    'ServicePacks': 'Service Packs', 'UpdateRollups': 'Update Rollups',
}
_PROBE = re.compile(r'^\s*#\s*healthit\.patching probe:\s*(\S+)', re.M)
# What an AnsibleModule argument spec takes from a documented option (the description stays in the docs).
_SPEC_KEYS = ('type', 'default', 'choices', 'aliases', 'elements', 'required')


def argument_spec(options):
    """The AnsibleModule argument spec of documented ``options``.

    The double's modules are documentation only: their DOCUMENTATION is the one place their options are written.
    """
    spec = {}
    for name, option in (options or {}).items():
        entry = {key: option[key] for key in _SPEC_KEYS if key in option}
        if option.get('suboptions'):
            entry['options'] = argument_spec(option['suboptions'])
        spec[name] = entry
    return spec


def module_argument_spec(module):
    """The argument spec of the double's module ``module`` (e.g. ``win_updates``), from its documentation."""
    doc = importlib.import_module('ansible_collections.ansible.windows.plugins.modules.%s' % module).DOCUMENTATION
    return argument_spec(yaml.safe_load(doc).get('options'))


def _reg_key(path):
    path = str(path).strip().rstrip('\\')
    path = re.sub(r'^(HKEY_LOCAL_MACHINE|HKLM:?)\\', r'HKLM:\\', path, flags=re.I)
    return path.lower()


def _hresult(value):
    if isinstance(value, str):
        value = int(value, 16) if value.lower().startswith('0x') else int(value)
    return int(value) & 0xFFFFFFFF


class ScenarioError(AnsibleActionFail):
    pass


class DoubleHost(object):
    """One scripted host: its scenario and its persisted state."""

    def __init__(self, task_vars):
        self.name = task_vars.get('inventory_hostname')
        directory = task_vars.get(HOSTVAR_DIR) or os.environ.get(ENV_DIR)
        if not directory:
            raise ScenarioError('CONTRACT DOUBLE: no scenario directory for %s: set the host var %s or the '
                                'environment variable %s' % (self.name, HOSTVAR_DIR, ENV_DIR))
        self.scenario_path = os.path.join(directory, '%s.yml' % self.name)
        self.state_path = os.path.join(directory, '%s.state.json' % self.name)
        try:
            with open(self.scenario_path, encoding='utf-8') as f:
                self.scenario = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ScenarioError('CONTRACT DOUBLE: cannot read scenario %s: %s' % (self.scenario_path, e))
        if os.path.exists(self.state_path):
            with open(self.state_path, encoding='utf-8') as f:
                self.state = json.load(f)
        else:
            self.state = self._initial_state()

    def _initial_state(self):
        sc = self.scenario
        services = {}
        for index, svc in enumerate(sc.get('services') or []):
            if 'name' not in svc:
                raise ScenarioError('CONTRACT DOUBLE: %s: services[%d] has no name' % (self.scenario_path, index))
            services[svc['name']] = {'name': svc['name'], 'display_name': svc.get('display_name', svc['name']),
                                     'state': svc.get('state', 'started'), 'start_mode': svc.get('start_mode', 'auto')}
        registry = {}
        for path, values in (sc.get('registry') or {}).items():
            registry[_reg_key(path)] = dict(values or {})
        return {'boots': 0, 'round': 0, 'installed': list(sc.get('installed_kbs') or []),
                'rollback_at_reboot': [], 'registry': registry, 'services': services, 'calls': []}

    def save(self):
        tmp = self.state_path + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
        os.replace(tmp, self.state_path)

    def log(self, module, args):
        self.state['calls'].append({'module': module, 'args': args})

    # registry helpers
    def set_key(self, path, values=None):
        self.state['registry'].setdefault(_reg_key(path), {}).update(values or {})

    def delete_key(self, path):
        self.state['registry'].pop(_reg_key(path), None)

    def delete_value(self, path, name):
        self.state['registry'].get(_reg_key(path), {}).pop(name, None)

    def catalog_entry(self, kb, where):
        catalog = self.scenario.get('catalog') or {}
        if kb not in catalog:
            raise ScenarioError('CONTRACT DOUBLE: %s: %s names %s, which is not in catalog'
                                % (self.scenario_path, where, kb))
        entry = dict(catalog[kb] or {})
        entry.setdefault('title', 'Update (%s)' % kb)
        entry.setdefault('categories', ['Security Updates'])
        entry.setdefault('id', str(uuid.uuid5(uuid.NAMESPACE_URL, 'healthit-double:' + kb)))
        return entry


class DoubleAction(ActionBase):
    """Validate the task's arguments against the real module's spec, then play the scenario."""

    MODULE = None
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        result = super(DoubleAction, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=module_argument_spec(self.MODULE))
        host = DoubleHost(task_vars or {})
        if host.scenario.get('unreachable'):
            result.update(unreachable=True, changed=False,
                          msg='ntlm: HTTPSConnectionPool(port=5986): Max retries exceeded (CONTRACT DOUBLE: '
                              'scenario says %s is unreachable)' % host.name)
            return result
        result.update(getattr(self, 'play_' + self.MODULE)(host, args, task_vars or {}))
        host.save()
        return result

    # ------------------------------------------------------------------ win_updates
    def _update_info(self, host, kb, where):
        entry = host.catalog_entry(kb, where)
        return entry, {'id': entry['id'], 'title': entry['title'], 'kb': [kb[2:] if kb.upper().startswith('KB') else kb],
                       'categories': list(entry['categories']), 'downloaded': False, 'installed': False}

    @staticmethod
    def _filter_reasons(kb, entry, args):
        cats = [_CATEGORY_ALIASES.get(c, c) for c in args['category_names']]
        targets = [entry['title'], kb]

        def in_list(patterns):
            return any(re.search(p, t, re.I) for p in patterns for t in targets)

        reasons = []
        if args.get('accept_list') and not in_list(args['accept_list']):
            reasons.append('accept_list')
        if args.get('reject_list') and in_list(args['reject_list']):
            reasons.append('reject_list')
        if entry.get('hidden'):
            reasons.append('hidden')
        if cats and not any(c == '*' or c.lower() in [x.lower() for x in entry['categories']] for c in cats):
            reasons.append('category_names')
        if args.get('skip_optional') and entry.get('browse_only'):
            reasons.append('skip_optional')
        return reasons

    def play_win_updates(self, host, args, task_vars):
        if args.get('reboot'):
            raise AnsibleActionFail('CONTRACT DOUBLE: win_updates reboot=true is not emulated; the caller must '
                                    'drive reboots with win_reboot')
        searched = self._task.check_mode or args['state'] in ('searched', 'downloaded')
        host.log('win_updates', {k: args.get(k) for k in ('state', 'category_names', 'accept_list', 'reject_list',
                                                          'skip_optional', 'server_selection')})
        state = host.state
        rounds = host.scenario.get('rounds') or []
        index = state['round']
        script = rounds[index] if index < len(rounds) else {}
        where = 'rounds[%d]' % index
        result = {'changed': False, 'reboot_required': _reg_key(WU_REBOOT_REQUIRED) in state['registry'],
                  'rebooted': False, 'updates': {}, 'filtered_updates': {}, 'found_update_count': 0,
                  'installed_update_count': 0, 'failed_update_count': 0}
        selected = []
        for kb in script.get('offer') or []:
            if kb in state['installed']:
                continue
            entry, info = self._update_info(host, kb, where + '.offer')
            reasons = self._filter_reasons(kb, entry, args)
            if reasons:
                info['filtered_reasons'] = reasons
                result['filtered_updates'][entry['id']] = info
            else:
                result['updates'][entry['id']] = info
                selected.append((kb, entry, info))
        result['found_update_count'] = len(selected)
        if searched:
            if args['state'] == 'downloaded' and not self._task.check_mode:
                for dummy, dummy2, info in selected:
                    info['downloaded'] = True
            return result

        state['round'] += 1
        if script.get('exception'):
            exc = script['exception']
            code = _hresult(exc.get('hresult', 0x80240022))
            return {'failed': True, 'changed': False,
                    'msg': '%s - %s (%s 0x%08X)' % ((exc.get('message', 'Failed to search for updates'),)
                                                    + _WUA_TEXT.get(code, ('UNKNOWN', 'Unknown WUA HRESULT'))[::-1]
                                                    + (code,))}
        failing = dict(host.scenario.get('failing_kbs') or {})
        failing.update(script.get('fail') or {})
        for kb, entry, info in selected:
            info['downloaded'] = True
            if kb in failing:
                code = _hresult(failing[kb])
                info['failure_hresult_code'] = code
                info['failure_msg'] = 'CONTRACT DOUBLE scripted failure 0x%08X' % code
                result['failed_update_count'] += 1
                continue
            info['installed'] = True
            state['installed'].append(kb)
            result['installed_update_count'] += 1
            result['changed'] = True
            if entry.get('reboot_required', True):
                host.set_key(WU_REBOOT_REQUIRED)
                host.set_key(CBS_REBOOT_PENDING)
        for kb in script.get('rollback_at_reboot') or []:
            if kb not in state['rollback_at_reboot']:
                state['rollback_at_reboot'].append(kb)
        result['reboot_required'] = _reg_key(WU_REBOOT_REQUIRED) in state['registry']
        if script.get('drop_connection'):
            # Like ansible.windows' action plugin when the connection cannot be re-established: the
            # work on the host went on, the controller only knows the task became unreachable.
            return {'unreachable': True, 'changed': False, 'updates': {}, 'filtered_updates': {},
                    'found_update_count': 0, 'installed_update_count': 0, 'failed_update_count': 0,
                    'msg': 'psrp: connection reset while polling update progress (CONTRACT DOUBLE: scripted '
                           'drop in round %d)' % state['round']}
        return result

    # ------------------------------------------------------------------ win_reboot
    def play_win_reboot(self, host, args, task_vars):
        host.log('win_reboot', {'reboot_timeout': args.get('reboot_timeout'), 'msg': args.get('msg')})
        if self._task.check_mode:
            return {'changed': True, 'rebooted': False, 'elapsed': 0}
        if host.scenario.get('reboot_fails'):
            return {'failed': True, 'rebooted': True, 'changed': True,
                    'msg': 'Timed out waiting for post-reboot test command (timeout=%s)' % args.get('reboot_timeout')}
        state = host.state
        state['boots'] += 1
        host.delete_key(CBS_REBOOT_PENDING)
        host.delete_key(WU_REBOOT_REQUIRED)
        host.delete_value(SESSION_MANAGER, 'PendingFileRenameOperations')
        for kb in state['rollback_at_reboot']:
            if kb in state['installed']:
                state['installed'].remove(kb)
        state['rollback_at_reboot'] = []
        stay_down = host.scenario.get('services_stopped_after_reboot') or []
        for svc in state['services'].values():
            if svc['start_mode'] in ('auto', 'delayed'):
                svc['state'] = 'stopped' if svc['name'] in stay_down else 'started'
            else:
                svc['state'] = 'stopped'
        return {'changed': True, 'rebooted': True, 'elapsed': 0.1}

    # ------------------------------------------------------------------ services
    @staticmethod
    def _service_result(svc):
        return {'name': svc['name'], 'display_name': svc['display_name'], 'state': svc['state'],
                'start_mode': svc['start_mode'], 'path': r'C:\Windows\System32\svchost.exe -k netsvcs -p',
                'username': 'LocalSystem', 'description': '', 'dependencies': [], 'dependency_of': [],
                'service_type': 'win32_share_process', 'process_id': 0 if svc['state'] != 'started' else 1000}

    def play_win_service_info(self, host, args, task_vars):
        host.log('win_service_info', {'name': args.get('name')})
        pattern = (args.get('name') or '*').lower()
        services = [self._service_result(s) for s in sorted(host.state['services'].values(), key=lambda s: s['name'].lower())
                    if fnmatch.fnmatchcase(s['name'].lower(), pattern) or fnmatch.fnmatchcase(s['display_name'].lower(), pattern)]
        return {'changed': False, 'exists': bool(services), 'services': services}

    def play_win_service(self, host, args, task_vars):
        emulated = ('name', 'state', 'start_mode', 'dependency_action', 'desktop_interact', 'force_dependent_services')
        spec = module_argument_spec('win_service')
        for option, value in args.items():
            if option not in emulated and value is not None and value != spec[option].get('default'):
                raise AnsibleActionFail('CONTRACT DOUBLE: win_service option %s is not emulated' % option)
        host.log('win_service', {'name': args['name'], 'state': args.get('state'), 'start_mode': args.get('start_mode')})
        svc = host.state['services'].get(args['name'])
        if svc is None:
            return {'failed': True, 'changed': False, 'exists': False,
                    'msg': "Service '%s' is not installed, need to set 'path' to create a new service" % args['name']}
        changed = False
        if args.get('start_mode') and args['start_mode'] != svc['start_mode']:
            changed = True
            if not self._task.check_mode:
                svc['start_mode'] = args['start_mode']
        wanted = args.get('state')
        if wanted in ('started', 'restarted') and args['name'] in (host.scenario.get('service_start_fails') or []):
            return {'failed': True, 'changed': changed, 'exists': True, 'name': svc['name'], 'state': svc['state'],
                    'msg': "Failed to start service '%s': The service did not respond to the start or control request "
                           "in a timely fashion" % svc['name']}
        if wanted == 'restarted' or (wanted in ('started', 'stopped') and svc['state'] != wanted):
            changed = True
            if not self._task.check_mode:
                svc['state'] = 'stopped' if wanted == 'stopped' else 'started'
        return {'changed': changed, 'exists': True, 'name': svc['name'], 'display_name': svc['display_name'],
                'state': svc['state'], 'start_mode': svc['start_mode']}

    # ------------------------------------------------------------------ registry
    def play_win_reg_stat(self, host, args, task_vars):
        host.log('win_reg_stat', {'path': args['path'], 'name': args.get('name')})
        values = host.state['registry'].get(_reg_key(args['path']))
        if values is None:
            return {'changed': False, 'exists': False}
        name = args.get('name')
        if name is None:
            prefix = _reg_key(args['path']) + '\\'
            sub_keys = sorted({k[len(prefix):].split('\\')[0] for k in host.state['registry'] if k.startswith(prefix)})
            return {'changed': False, 'exists': True, 'sub_keys': sub_keys,
                    'properties': {k: {'value': v, 'raw_value': v, 'type': 'REG_SZ'} for k, v in values.items()}}
        if name not in values:
            return {'changed': False, 'exists': False}
        value = values[name]
        kind = 'REG_MULTI_SZ' if isinstance(value, list) else 'REG_DWORD' if isinstance(value, int) else 'REG_SZ'
        return {'changed': False, 'exists': True, 'value': value, 'raw_value': value, 'type': kind}

    # ------------------------------------------------------------------ probes
    def play_win_powershell(self, host, args, task_vars):
        script = args.get('script') or ''
        match = _PROBE.search(script)
        if not match:
            raise AnsibleActionFail('CONTRACT DOUBLE: win_powershell cannot run PowerShell; it only answers scripts '
                                    'that start with "# healthit.patching probe: NAME"')
        probe = match.group(1)
        host.log('win_powershell', {'probe': probe})
        scenario, state = host.scenario, host.state
        answers = {
            'free_disk': lambda: [{'drive': 'C:', 'free_mb': int(scenario.get('free_disk_mb', 40960))}],
            'interactive_sessions': lambda: [{'sessions': int(scenario.get('interactive_sessions', 0))}],
            'installed_kbs': lambda: sorted(state['installed']),
        }
        if probe not in answers:
            raise AnsibleActionFail('CONTRACT DOUBLE: unknown probe %r (known: %s)' % (probe, ', '.join(sorted(answers))))
        changed = not re.search(r'\$Ansible\.Changed\s*=\s*\$false', script, re.I)
        return {'changed': changed, 'output': answers[probe](), 'result': {}, 'host_out': '', 'host_err': '',
                'error': [], 'warning': [], 'verbose': [], 'debug': [], 'information': []}

    def play_win_ping(self, host, args, task_vars):
        host.log('win_ping', {})
        return {'changed': False, 'ping': args.get('data') or 'pong'}

    def play_setup(self, host, args, task_vars):
        host.log('setup', {'gather_subset': args.get('gather_subset')})
        facts = host.scenario.get('facts') or {}
        return {'changed': False, 'ansible_facts': {
            'ansible_os_family': 'Windows',
            'ansible_system': 'Win32NT',
            'ansible_os_product_type': facts.get('os_product_type', 'server'),
            'ansible_distribution': facts.get('distribution', 'Microsoft Windows Server 2022 Standard'),
            'ansible_distribution_version': facts.get('distribution_version', '10.0.20348.0'),
            'ansible_hostname': facts.get('hostname', str(host.name).upper()[:15]),
            'ansible_os_installation_type': facts.get('installation_type', 'Server'),
        }}
