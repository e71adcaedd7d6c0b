"""Reading apt and dnf answers into an upgrade plan, from recorded output in data/linux_plan/."""
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _linux_plan as lp

CASES = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), 'data', 'linux_plan', 'cases.yml')))


@pytest.mark.parametrize('case', CASES['apt_simulation'], ids=[c['id'] for c in CASES['apt_simulation']])
def test_apt_simulation(case):
    installs, removals = lp.parse_apt_simulation(case['text'])
    assert installs == case['installs']
    assert removals == case['removals']


@pytest.mark.parametrize('case', CASES['dnf_check_update'], ids=[c['id'] for c in CASES['dnf_check_update']])
def test_dnf_check_update(case):
    plan = lp.parse_dnf_check_update(case['text'])
    assert [p['name'] for p in plan] == case['names']
    assert [p['target'] for p in plan] == case['targets']


@pytest.mark.parametrize('case', CASES['security_sources'], ids=[c['id'] for c in CASES['security_sources']])
def test_security_sources(case):
    assert lp.security_source_lines(case['one_line'], case['deb822']) == case['lines']


def test_filter_plan_hold_wins_over_exclude():
    plan = [dict(name=n) for n in ('openssl', 'postgresql-15', 'postgresql-client-15', 'curl')]
    kept, excluded, held = lp.filter_plan(plan, exclude=['postgresql-*'], hold=['openssl', 'postgresql-15'])
    assert [p['name'] for p in kept] == ['curl']
    assert [p['name'] for p in excluded] == ['postgresql-client-15']
    assert [p['name'] for p in held] == ['openssl', 'postgresql-15']


def test_madison():
    text = ("labpkg-web |        1.1 | file:/srv/labrepo bookworm-security/main amd64 Packages\n"
            "labpkg-web |        1.0 | file:/srv/labrepo bookworm/main amd64 Packages\n")
    assert lp.parse_apt_madison(text) == {'labpkg-web': {'1.0', '1.1'}}
