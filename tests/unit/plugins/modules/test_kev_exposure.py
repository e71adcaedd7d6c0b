"""kev_exposure run in-process as Ansible runs it, over lab-shaped facts and the lab advisory data."""
import json
import os

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.healthit.patching.plugins.modules import kev_exposure

HERE = os.path.dirname(__file__)
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
TRIMMED = os.path.join(ROOT, 'tests', 'data', 'kev', 'catalog-trimmed.json')
ADV = os.path.join(ROOT, 'tests', 'data', 'advisories')
with open(os.path.join(HERE, 'data', 'kev_lab_hosts.yml')) as f:
    HOSTS = yaml.safe_load(f)


def run(capsys, check_mode=False, **args):
    args = dict(args, _ansible_check_mode=check_mode)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            kev_exposure.main()
    out = json.loads(capsys.readouterr().out)
    out['_rc'] = exc.value.code
    return out


def base(**extra):
    args = dict(catalog_path=TRIMMED, hosts=HOSTS,
                debian_tracker=[os.path.join(ADV, 'debian-tracker-sample.json'), os.path.join(ADV, 'lab-debian-tracker.json')],
                firmware_advisories=os.path.join(ADV, 'lab-firmware.json'))
    args.update(extra)
    return args


def test_exactly_the_exposed_hosts_get_exactly_the_fix(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv('HEALTHIT_PATCH_STATE_DIR', raising=False)
    res = run(capsys, **base(cve_ids=['CVE-2021-44228', 'CVE-2024-1086', 'CVE-2018-0171']))
    assert res['_rc'] == 0, res
    assert res['changed'] is False and res['history_dir'] is None
    exposed = sorted((r['host'], r['cve']) for r in res['exposures'] if r['exposed'])
    assert exposed == [('kvm-01', 'CVE-2024-1086'), ('lnx-prod-01', 'CVE-2021-44228'),
                       ('lnx-test-01', 'CVE-2021-44228'), ('sw-core-01', 'CVE-2018-0171')]
    by_host = res['by_host']
    assert by_host['lnx-prod-01']['packages'] == {'labpkg-web': '1.1'}
    assert by_host['lnx-test-01']['packages'] == {'labpkg-web': '1.1'}
    assert by_host['kvm-01']['packages'] == {'labpkg-kernel': '1.1'}
    assert by_host['sw-core-01']['image'] == {'platform': 'ios', 'train': '15.2E', 'version': '15.2(7)E10'}
    for host in ('lnx-test-02', 'lnx-prod-02', 'sw-access-01'):
        assert by_host[host]['exposed'] == [] and by_host[host]['packages'] == {} and by_host[host]['image'] is None
    assert res['catalog_version'] == '2025.08.25'
    # Windows and RPM data were not given, but no host is of those families: nothing is unknown.
    assert res['summary']['unknown_pairs'] == 0


def test_history_in_state_dir_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv('HEALTHIT_PATCH_STATE_DIR', str(tmp_path))
    first = run(capsys, **base(cve_ids=['CVE-2021-44228']))
    assert first['changed'] is True
    assert first['history_dir'] == str(tmp_path / 'kev_history')
    assert sorted(e['host'] for e in first['history_events']) == ['lnx-prod-01', 'lnx-test-01']
    assert {e['event'] for e in first['history_events']} == {'identified'}

    check = run(capsys, check_mode=True, **base(cve_ids=['CVE-2021-44228']))
    assert check['changed'] is False and check['history_events'] == []

    patched = dict(HOSTS)
    patched['lnx-prod-01'] = dict(HOSTS['lnx-prod-01'], packages={'labpkg-web': {'version': '1.1', 'source': 'labpkg-web'}})
    after = run(capsys, check_mode=True, **base(cve_ids=['CVE-2021-44228'], hosts=patched,
                                                patch_results={'lnx-prod-01': {'status': 'patched'}}))
    assert [(e['host'], e['event']) for e in after['history_events']] == [('lnx-prod-01', 'patched'), ('lnx-prod-01', 'verified')]
    lines = (tmp_path / 'kev_history' / 'CVE-2021-44228.jsonl').read_text().splitlines()
    assert len(lines) == 2  # check mode appended nothing

    done = run(capsys, **base(cve_ids=['CVE-2021-44228'], hosts=patched,
                              patch_results={'lnx-prod-01': {'status': 'patched'}}))
    verified = [e for e in done['history_events'] if e['event'] == 'verified'][0]
    # The KEV due date (2021-12-24) is long past: the SLA is missed, whatever the policy says.
    assert verified['sla'] == 'missed' and verified['deadline'] == '2021-12-24T23:59:59Z'
    states = {h['host']: h for h in done['history']}
    assert states['lnx-prod-01']['sla'] == 'missed' and states['lnx-test-01']['sla_status'] == 'overdue'


@pytest.mark.parametrize('args,message', [
    (dict(cve_ids=['CVE-2025-4664']), 'not in the KEV catalog: CVE-2025-4664'),
    (dict(policy_hours={'clinical_critical': 'soon'}), 'policy hours for clinical_critical must be a positive number'),
    (dict(catalog_path='/nonexistent/kev.json'), 'cannot read KEV catalog'),
    (dict(debian_tracker='/nonexistent/tracker.json'), 'cannot read debian_tracker'),
])
def test_bad_input_fails_clearly(capsys, monkeypatch, args, message):
    monkeypatch.delenv('HEALTHIT_PATCH_STATE_DIR', raising=False)
    res = run(capsys, **base(**args))
    assert res['_rc'] == 1 and message in res['msg'], res['msg']


def test_catalog_as_entries(capsys, monkeypatch):
    monkeypatch.delenv('HEALTHIT_PATCH_STATE_DIR', raising=False)
    with open(TRIMMED) as f:
        entries = [e for e in json.load(f)['vulnerabilities'] if e['cveID'] == 'CVE-2021-44228']
    args = base(include_unaffected=False)
    del args['catalog_path']
    res = run(capsys, catalog=entries, **args)
    assert res['_rc'] == 0 and res['catalog_version'] is None
    assert sorted(r['host'] for r in res['exposures']) == ['lnx-prod-01', 'lnx-test-01']
