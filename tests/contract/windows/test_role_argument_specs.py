"""roles/windows_patch: meta/argument_specs.yml and defaults/main.yml describe the same variables with the same defaults."""
import os

import pytest
import yaml

pytestmark = pytest.mark.contract

ROLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                    'roles', 'windows_patch')
# Defaults that are templates (they follow inventory vars) carry no static default in the spec.
TEMPLATED = {'windows_patch_require_baseline'}


def _yaml(*parts):
    with open(os.path.join(ROLE, *parts), encoding='utf-8') as f:
        return yaml.safe_load(f)


def test_specs_and_defaults_agree():
    options = _yaml('meta', 'argument_specs.yml')['argument_specs']['main']['options']
    defaults = _yaml('defaults', 'main.yml')
    assert set(options) == set(defaults)
    assert all(name.startswith('windows_patch_') for name in defaults)
    for name, option in options.items():
        if name in TEMPLATED:
            assert 'default' not in option and '{{' in str(defaults[name])
        else:
            assert option.get('default') == defaults[name], name


def test_internal_vars_are_prefixed():
    assert all(name.startswith('__windows_patch_') for name in _yaml('vars', 'main.yml'))
