"""The firmware filters are thin: they return the helper's answer and turn its errors into filter errors."""
import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.filter.firmware_target import FilterModule as TargetFilters
from ansible_collections.healthit.patching.plugins.filter.ios_show_parse import FilterModule as ParseFilters

DATA = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'data', 'firmware')
with open(os.path.join(DATA, 'catalogue.yml'), encoding='utf-8') as f:
    CAT = yaml.safe_load(f)
with open(os.path.join(DATA, 'ios_outputs.yml'), encoding='utf-8') as f:
    OUT = yaml.safe_load(f)

firmware_target = TargetFilters().filters()['firmware_target']
ios_show_parse = ParseFilters().filters()['ios_show_parse']


def test_firmware_target_returns_the_entry():
    case = CAT['found'][0]
    assert firmware_target(case['catalogue'], case['platform'], case['model']) == case['expected']


@pytest.mark.parametrize('case', CAT['errors'], ids=[c['id'] for c in CAT['errors']])
def test_firmware_target_errors_are_filter_errors(case):
    with pytest.raises(AnsibleFilterError, match='firmware_target: '):
        firmware_target(case['catalogue'], 'ios', case.get('model') or 'C9300-48P')


@pytest.mark.parametrize('case', OUT['cases'], ids=[c['id'] for c in OUT['cases']])
def test_ios_show_parse(case):
    assert ios_show_parse(case['output'], case['kind']) == case['expected']


@pytest.mark.parametrize('case', OUT['errors'], ids=[c['id'] for c in OUT['errors']])
def test_ios_show_parse_errors_are_filter_errors(case):
    with pytest.raises(AnsibleFilterError, match=r'ios_show_parse\(%s\)' % case['kind']):
        ios_show_parse(case['output'], case['kind'])
