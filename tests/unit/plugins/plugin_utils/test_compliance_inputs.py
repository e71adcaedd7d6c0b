"""The compliance report's controller-side inputs: inventory scope, the register read fail closed."""
import os

import pytest

from ansible_collections.healthit.patching.plugins.plugin_utils import _compliance_inputs as inputs
from ansible_collections.healthit.patching.plugins.plugin_utils._source_data import SourceError

REGISTER = """exceptions:
  - id: EXC-1
    hosts: [pacs-ws-01]
    owner: radiology-it
    approved_by: CISO
    approved_on: 2026-08-01
    expires: 2099-12-31
    compensating_controls: [VLAN 312 isolated]
"""
CMDB = "hostname,platform,owner,wave,site\npacs-ws-01,windows_workstation,radiology-it,production,main-campus\n" \
       "lnx-01,linux,infra,test,north\n"


def task_vars(tmp_path, **all_vars):
    base = {
        'patch_inventory_source': 'healthit.patching.patch_inventory',
        'patch_excluded_hosts': [{'host': 'pacs-ws-01', 'exception': 'EXC-1', 'owner': 'radiology-it',
                                  'expires': '2099-12-31', 'compensating_controls': ['VLAN 312 isolated']}],
        'patch_cmdb_sources': [{'path': str(tmp_path / 'hosts.csv'), 'sha256': 'x'}],
        'patch_exception_register_path': str(tmp_path / 'register.yml'),
        'patch_exception_review_days': 45,
    }
    base.update(all_vars)
    hostvars = {'lnx-01': dict(base, patch_site='north', patch_owner='infra', patch_platform='linux',
                               patch_wave='test', patch_criticality='low',
                               patch_exception_expired={'id': 'EXC-0', 'expires': '2026-01-01'})}
    return {'groups': {'all': ['lnx-01']}, 'hostvars': hostvars}


@pytest.fixture
def files(tmp_path):
    (tmp_path / 'register.yml').write_text(REGISTER)
    (tmp_path / 'hosts.csv').write_text(CMDB)
    return tmp_path


def test_scope_from_the_inventory_plugin(files):
    scope = inputs.inventory_scope(task_vars(files))
    assert scope.hosts == [{'name': 'lnx-01', 'site': 'north', 'owner': 'infra', 'platform': 'linux', 'wave': 'test',
                            'criticality': 'low', 'exception_expired': True, 'exception_id': 'EXC-0'}]
    # Excepted hosts carry site and platform from the same CMDB export the inventory read.
    assert scope.excepted == [{'name': 'pacs-ws-01', 'exception_id': 'EXC-1', 'owner': 'radiology-it',
                               'expires': '2099-12-31', 'compensating_controls': ['VLAN 312 isolated'],
                               'site': 'main-campus', 'platform': 'windows_workstation'}]
    assert scope.review_days == 45 and scope.warnings == []


def test_unreadable_cmdb_is_a_warning_not_a_guess(files):
    os.remove(str(files / 'hosts.csv'))
    scope = inputs.inventory_scope(task_vars(files))
    assert 'site' not in scope.excepted[0]
    assert len(scope.warnings) == 1 and 'hosts.csv' in scope.warnings[0]


def test_another_inventory_is_refused(files):
    with pytest.raises(inputs.InputError, match='did not come from the healthit.patching.patch_inventory plugin'):
        inputs.inventory_scope(task_vars(files, patch_inventory_source=None))


def test_register_read_fail_closed(files):
    register = inputs.read_register(str(files / 'register.yml'))
    assert [e['id'] for e in inputs.register_entries(register)] == ['EXC-1']
    with pytest.raises(inputs.InputError, match='changed since the inventory was built'):
        inputs.read_register(str(files / 'register.yml'), expected_sha256='0' * 64)
    (files / 'register.yml').write_text(REGISTER.replace('    expires: 2099-12-31\n', ''))
    with pytest.raises(SourceError) as err:
        inputs.read_register(str(files / 'register.yml'))
    assert 'register.yml' in str(err.value.render()) and 'expires' in str(err.value.render())
    with pytest.raises(inputs.InputError, match='no exception register'):
        inputs.read_register(None)


def test_history_absent_is_empty(tmp_path):
    history = inputs.read_history(str(tmp_path), '2026-11-30T00:00:00Z')
    assert history.entries == [] and history.sha256 is None
