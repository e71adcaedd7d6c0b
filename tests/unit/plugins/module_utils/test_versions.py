"""Version ordering from data tables (tests/unit/plugins/module_utils/data/versions/*.yml)."""
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _versions

DATA = os.path.join(os.path.dirname(__file__), 'data', 'versions')
SCHEMES = ('debian', 'rpm', 'ios', 'iosxe', 'nxos', 'junos', 'bmc', 'semver', 'generic')


def _load(scheme):
    with open(os.path.join(DATA, scheme + '.yml')) as f:
        return yaml.safe_load(f)


TABLES = {s: _load(s) for s in SCHEMES}


def _params(section):
    out = []
    for scheme in SCHEMES:
        for row in TABLES[scheme].get(section) or []:
            row = row if isinstance(row, list) else [row]
            out.append(pytest.param(scheme, *row, id='%s:%s' % (scheme, '|'.join(str(x) for x in row))))
    return out


def test_every_scheme_has_a_table():
    assert sorted(TABLES) == sorted(_versions.SCHEMES)
    for scheme, table in TABLES.items():
        assert len(table['cases']) >= 15, scheme
        assert table['invalid'], scheme


@pytest.mark.parametrize('scheme,a,b,expected', _params('cases'))
def test_compare(scheme, a, b, expected):
    assert _versions.compare(a, b, scheme) == expected
    # Antisymmetry: the reverse question gets the reverse answer.
    first, second = b, a
    assert _versions.compare(first, second, scheme) == -expected


@pytest.mark.parametrize('scheme,a,b,expected', _params('cases'))
def test_sort_key_agrees_with_compare(scheme, a, b, expected):
    ka, kb = _versions.sort_key(a, scheme), _versions.sort_key(b, scheme)
    assert ((ka > kb) - (ka < kb)) == expected
    assert (ka == kb) == (expected == 0)


@pytest.mark.parametrize('scheme', SCHEMES)
def test_sorting_a_table_is_consistent(scheme):
    """Sorting all versions of a table must respect every pairwise expectation (transitivity)."""
    cases = TABLES[scheme]['cases']
    versions = sorted({v for a, b, _expected in cases for v in (a, b)})
    ordered = _versions.sort_versions(versions, scheme)
    for a, b, expected in cases:
        ia, ib = ordered.index(a), ordered.index(b)
        if expected < 0:
            assert ia < ib, (a, b)
        elif expected > 0:
            assert ia > ib, (a, b)
    for x, y in zip(ordered, ordered[1:]):
        assert _versions.compare(x, y, scheme) <= 0, (x, y)
    newest_first = _versions.sort_versions(versions, scheme, reverse=True)
    for x, y in zip(newest_first, newest_first[1:]):
        assert _versions.compare(x, y, scheme) >= 0, (x, y)


@pytest.mark.parametrize('scheme,version', _params('invalid'))
def test_invalid_versions_are_refused(scheme, version):
    with pytest.raises(_versions.VersionError) as err:
        _versions.compare(version, TABLES[scheme]['cases'][0][0], scheme)
    assert scheme in str(err.value)
    assert repr(version) in str(err.value)
    assert not _versions.is_valid(version, scheme)


@pytest.mark.parametrize('scheme,version,expected', _params('trains'))
def test_train(scheme, version, expected):
    assert _versions.train(version, scheme) == expected


@pytest.mark.parametrize('value', [None, 1.1, True, ['1.0'], {'v': 1}])
def test_non_string_values_are_refused(value):
    with pytest.raises(_versions.VersionError):
        _versions.compare(value, '1.0', 'generic')


def test_integers_are_versions():
    assert _versions.compare(10, '9', 'generic') == 1


def test_aliases_and_unknown_scheme():
    assert _versions.compare('1.0~rc1', '1.0', 'dpkg') == -1
    assert _versions.compare('1.0~rc1', '1.0', 'ubuntu') == -1
    assert _versions.compare('17.9.4', '17.9.4a', 'IOS-XE') == -1
    assert _versions.compare('1:1.0-1.el9', '2.0-1.el9', 'dnf') == 1
    with pytest.raises(ValueError, match='unknown version scheme'):
        _versions.compare('1', '2', 'windows')
    with pytest.raises(ValueError, match='no release trains'):
        _versions.train('1.0', 'debian')


def test_sort_key_validates_eagerly():
    with pytest.raises(_versions.VersionError):
        _versions.sort_key('1.0-', 'debian')


@pytest.mark.skipif(shutil.which('dpkg') is None, reason='dpkg is not installed on this machine')
def test_debian_table_matches_real_dpkg():
    """The recorded answers are dpkg's: ask the real dpkg again, so the table cannot drift."""
    for a, b, expected in TABLES['debian']['cases']:
        op = {-1: 'lt', 0: 'eq', 1: 'gt'}[expected]
        rc = subprocess.run(['dpkg', '--compare-versions', a, op, b],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
        assert rc == 0, 'dpkg disagrees: %s %s %s' % (a, op, b)


@pytest.mark.skipif(shutil.which('dpkg') is None, reason='dpkg is not installed on this machine')
def test_debian_invalid_table_matches_real_dpkg():
    for version in TABLES['debian']['invalid']:
        if not version or version.startswith('-'):
            continue  # dpkg reads "" as "no version" and "-1" as an option
        rc = subprocess.run(['dpkg', '--compare-versions', version, 'eq', '1.0'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
        assert rc == 2, 'dpkg accepted %r' % version
