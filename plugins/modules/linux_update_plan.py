#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: linux_update_plan
short_description: Work out exactly which package versions a patch run would install on a Linux host
version_added: 0.1.0
author: healthit.patching contributors (@healthit)
description:
  - Asks the host's package manager (apt or dnf) what an upgrade would change, without changing anything,
    and returns a plan of exact C(name=version) pins that the M(ansible.builtin.apt) or M(ansible.builtin.dnf)
    modules then install. Installing exact versions is what lets the test wave's result become a baseline
    that production receives unchanged.
  - O(mode=security) plans only updates from the security suites. For apt it simulates the upgrade against a
    private view of the host's sources holding only the suites that match O(security_suite_pattern) (with its own
    package lists, so the host's normal lists are not touched). For dnf it uses C(--security).
  - With O(baseline), the plan is the baseline's versions for the packages installed on the host, nothing newer;
    a package already newer than the baseline is left alone and reported; a baseline version that no repository
    offers makes the host's plan unusable (O(baseline) entries land in RV(unavailable)).
  - Reports for every planned package whether its current version can be reinstalled from a repository,
    which is what a rollback needs.
options:
  mode:
    description: Security updates only, or every update.
    type: str
    choices: [security, full]
    default: security
  baseline:
    description: Package name to exact version, as recorded by the test wave. When set, O(mode) is ignored.
    type: dict
  exclude:
    description: Package name patterns (shell globs) left out of this run.
    type: list
    elements: str
    default: []
  hold:
    description: Package name patterns never upgraded (the role also holds them in the package manager).
    type: list
    elements: str
    default: []
  update_cache:
    description: Refresh package lists first.
    type: bool
    default: true
  security_suite_pattern:
    description: Regular expression matching the apt suites that carry security updates.
    type: str
    default: '-security$'
  manager:
    description: Package manager; C(auto) picks apt or dnf by what is installed.
    type: str
    choices: [auto, apt, dnf]
    default: auto
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes installed packages; in check mode it still refreshes its private apt lists.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: debian, ubuntu, rhel, fedora
notes:
  - The dnf path is covered by unit tests of its parsing only; it has not run against a live RPM host in this project's lab.
'''

EXAMPLES = r'''
- name: Plan security updates
  healthit.patching.linux_update_plan:
    mode: security
    exclude: ["postgresql-*"]
  register: plan

- name: Plan exactly what the test wave validated
  healthit.patching.linux_update_plan:
    baseline: "{{ patch_baseline.content['linux:debian:bookworm'] }}"
'''

RETURN = r'''
manager:
  description: The package manager used.
  type: str
  returned: always
plan:
  description: Packages to install, each with name, installed (null for a new dependency), target and origin.
  type: list
  elements: dict
  returned: always
removals:
  description: Packages the upgrade would remove (the role refuses such a plan).
  type: list
  elements: dict
  returned: always
excluded:
  description: Planned packages left out by O(exclude).
  type: list
  elements: dict
  returned: always
held:
  description: Planned packages left out by O(hold).
  type: list
  elements: dict
  returned: always
newer_than_baseline:
  description: Installed packages already newer than the baseline (left alone).
  type: list
  elements: dict
  returned: always
unavailable:
  description: Baseline versions no repository offers.
  type: list
  elements: dict
  returned: always
rollback_available:
  description: For each planned package with an installed version, whether that version can be reinstalled.
  type: dict
  returned: always
pins:
  description: The plan as C(name=version) strings for apt (C(name-version) for dnf).
  type: list
  elements: str
  returned: always
'''

import os
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.healthit.patching.plugins.module_utils import _linux_plan as lp
from ansible_collections.healthit.patching.plugins.module_utils._versions import compare

_STATE = '/var/lib/healthit-patching/apt-security'
_APT_ENV = dict(DEBIAN_FRONTEND='noninteractive', LC_ALL='C')


def _run(module, cmd, what):
    rc, out, err = module.run_command(cmd, environ_update=_APT_ENV)
    if rc != 0:
        module.fail_json(msg='%s failed (rc=%s): %s' % (what, rc, (err or out).strip()[-2000:]), cmd=cmd)
    return out


def _read(path):
    with open(path) as f:
        return f.read()


def _apt_security_view(module, pattern):
    one_line, deb822 = [], []
    if os.path.exists('/etc/apt/sources.list'):
        one_line.append(_read('/etc/apt/sources.list'))
    parts = '/etc/apt/sources.list.d'
    if os.path.isdir(parts):
        for name in sorted(os.listdir(parts)):
            if name.endswith('.list'):
                one_line.append(_read(os.path.join(parts, name)))
            elif name.endswith('.sources'):
                deb822.append(_read(os.path.join(parts, name)))
    lines = lp.security_source_lines(one_line, deb822, pattern)
    if not lines:
        module.fail_json(msg='no apt source matches the security suite pattern %r: cannot plan security-only updates' % pattern)
    os.makedirs(os.path.join(_STATE, 'lists', 'partial'), mode=0o755, exist_ok=True)
    with open(os.path.join(_STATE, 'sources.list'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return ['-o', 'Dir::Etc::SourceList=%s' % os.path.join(_STATE, 'sources.list'),
            '-o', 'Dir::Etc::SourceParts=/nonexistent',
            '-o', 'Dir::State::Lists=%s' % os.path.join(_STATE, 'lists')]


def _dpkg_installed(module, names):
    if not names:
        return {}
    query = ['dpkg-query', '-W', '-f', '${Package}\t${Version}\t${db:Status-Abbrev}\n'] + list(names)
    dummy, out, dummy2 = module.run_command(query, environ_update=_APT_ENV)
    installed = {}
    for line in out.splitlines():
        parts = line.split('\t')
        if len(parts) == 3 and parts[2].startswith('ii'):
            installed[parts[0]] = parts[1]
    return installed


def _apt_available(module, names):
    if not names:
        return {}
    out = _run(module, ['apt-cache', 'madison'] + sorted(names), 'apt-cache madison')
    return lp.parse_apt_madison(out)


def plan_apt(module, p):
    result = dict(manager='apt', removals=[], excluded=[], held=[], newer_than_baseline=[], unavailable=[])
    if p['update_cache']:
        _run(module, ['apt-get', 'update', '-q'], 'apt-get update')
    if p['baseline'] is not None:
        installed = _dpkg_installed(module, p['baseline'].keys())
        avail = _apt_available(module, installed.keys())
        plan = []
        for name in sorted(p['baseline']):
            want = str(p['baseline'][name])
            have = installed.get(name)
            if have is None:
                continue
            order = compare(have, want, 'debian')
            if order == 0:
                continue
            if order > 0:
                result['newer_than_baseline'].append(dict(name=name, installed=have, baseline=want))
            elif want not in avail.get(name, set()):
                result['unavailable'].append(dict(name=name, installed=have, baseline=want))
            else:
                plan.append(dict(name=name, installed=have, target=want, origin='baseline'))
    else:
        view = _apt_security_view(module, p['security_suite_pattern']) if p['mode'] == 'security' else []
        if view:
            _run(module, ['apt-get', 'update', '-q'] + view, 'apt-get update (security view)')
        out = _run(module, ['apt-get', '-s', '-q'] + view + ['dist-upgrade'], 'apt-get -s dist-upgrade')
        installs, result['removals'] = lp.parse_apt_simulation(out)
        plan = installs
    plan, result['excluded'], result['held'] = lp.filter_plan(plan, p['exclude'], p['hold'])
    current = [i['name'] for i in plan if i.get('installed')]
    avail = _apt_available(module, current)
    result['rollback_available'] = dict((i['name'], i['installed'] in avail.get(i['name'], set()))
                                        for i in plan if i.get('installed'))
    result['plan'] = plan
    result['pins'] = ['%s=%s' % (i['name'], i['target']) for i in plan]
    return result


def plan_dnf(module, p):
    result = dict(manager='dnf', removals=[], excluded=[], held=[], newer_than_baseline=[], unavailable=[],
                  rollback_available={})
    dnf = module.get_bin_path('dnf', required=True)
    if p['baseline'] is not None:
        plan = []
        for name in sorted(p['baseline']):
            want = str(p['baseline'][name])
            rc, out, dummy = module.run_command(['rpm', '-q', '--qf', '%{EPOCH}:%{VERSION}-%{RELEASE}\n', name])
            if rc != 0:
                continue
            have = out.strip().splitlines()[0].replace('(none):', '')
            order = compare(have, want, 'rpm')
            if order > 0:
                result['newer_than_baseline'].append(dict(name=name, installed=have, baseline=want))
            elif order < 0:
                plan.append(dict(name=name, installed=have, target=want, origin='baseline'))
    else:
        cmd = [dnf, '-q', 'check-update'] + (['--security'] if p['mode'] == 'security' else [])
        if not p['update_cache']:
            cmd.append('--cacheonly')
        rc, out, err = module.run_command(cmd)
        if rc not in (0, 100):
            module.fail_json(msg='dnf check-update failed (rc=%s): %s' % (rc, err.strip()[-2000:]))
        plan = lp.parse_dnf_check_update(out)
    plan, result['excluded'], result['held'] = lp.filter_plan(plan, p['exclude'], p['hold'])
    result['plan'] = plan
    result['pins'] = ['%s-%s' % (i['name'], i['target']) for i in plan]
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type='str', default='security', choices=['security', 'full']),
            baseline=dict(type='dict'),
            exclude=dict(type='list', elements='str', default=[]),
            hold=dict(type='list', elements='str', default=[]),
            update_cache=dict(type='bool', default=True),
            security_suite_pattern=dict(type='str', default='-security$'),
            manager=dict(type='str', default='auto', choices=['auto', 'apt', 'dnf']),
        ),
        supports_check_mode=True,
    )
    p = module.params
    manager = p['manager']
    if manager == 'auto':
        manager = 'apt' if shutil.which('apt-get') else 'dnf' if shutil.which('dnf') else None
    if manager is None:
        module.fail_json(msg='neither apt-get nor dnf found: this host is not a supported Linux family')
    result = plan_apt(module, p) if manager == 'apt' else plan_dnf(module, p)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
