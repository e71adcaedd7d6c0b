"""roles/hypervisor_patch: meta/argument_specs.yml and defaults/main.yml describe the same variables with the same
defaults, and internal variables are prefixed. A static check of the role, kept with its contract tests."""
import os

import pytest
import yaml

pytestmark = pytest.mark.contract

ROLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                    'roles', 'hypervisor_patch')


def _yaml(*parts):
    with open(os.path.join(ROLE, *parts), encoding='utf-8') as f:
        return yaml.safe_load(f)


def test_specs_and_defaults_agree():
    options = _yaml('meta', 'argument_specs.yml')['argument_specs']['main']['options']
    defaults = _yaml('defaults', 'main.yml')
    assert set(options) == set(defaults)
    assert all(name.startswith('hypervisor_patch_') for name in defaults)
    for name, option in options.items():
        if '{{' in str(defaults[name]):
            # a default that follows inventory vars or the environment: described, not repeated
            assert 'default' not in option, name
        else:
            assert option.get('default') == defaults[name], name


def test_internal_vars_are_prefixed():
    assert all(name.startswith('__hypervisor_patch_') for name in _yaml('vars', 'main.yml'))
