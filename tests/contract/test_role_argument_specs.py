"""Roles with contract tests: meta/argument_specs.yml and defaults/main.yml describe the same variables with the
same defaults, and internal variables are prefixed. A static check of each role, kept with its contract tests."""
import os

import pytest
import yaml

pytestmark = pytest.mark.contract

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles')


def _yaml(role, *parts):
    with open(os.path.join(ROLES, role, *parts), encoding='utf-8') as f:
        return yaml.safe_load(f)


@pytest.mark.parametrize('role', ['windows_patch', 'hypervisor_patch'])
def test_specs_and_defaults_agree(role):
    options = _yaml(role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    defaults = _yaml(role, 'defaults', 'main.yml')
    assert set(options) == set(defaults)
    assert all(name.startswith(role + '_') for name in defaults)
    for name, option in options.items():
        if '{{' in str(defaults[name]):
            # a default that follows inventory vars or the environment: described, not repeated
            assert 'default' not in option, name
        else:
            assert option.get('default') == defaults[name], name


@pytest.mark.parametrize('role', ['windows_patch', 'hypervisor_patch'])
def test_internal_vars_are_prefixed(role):
    assert all(name.startswith('__%s_' % role) for name in _yaml(role, 'vars', 'main.yml'))
