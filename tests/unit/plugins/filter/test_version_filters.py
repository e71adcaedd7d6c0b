"""The version filters are thin: they must give the helper's answers and turn bad input into filter errors."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.healthit.patching.plugins.filter.version_compare import FilterModule as CompareFilters
from ansible_collections.healthit.patching.plugins.filter.version_sort import FilterModule as SortFilters

version_compare = CompareFilters().filters()['version_compare']
version_sort = SortFilters().filters()['version_sort']


@pytest.mark.parametrize('a,b,scheme,expected', [
    ('3.0.11-1~deb12u2', '3.0.15-1~deb12u1', 'debian', -1),
    ('15.2(7)E3', '15.2(7)E10', 'ios', -1),
    ('17.9.4a', '17.12.1', 'iosxe', -1),
    ('1:1.0-1.el9', '2.0-1.el9', 'rpm', 1),
    ('1.0', '1.0.0', 'generic', 0),
])
def test_version_compare(a, b, scheme, expected):
    assert version_compare(a, b, scheme) == expected


def test_version_sort():
    assert version_sort(['15.2(7)E10', '15.2(7)E3', '15.2(4)E10'], 'ios', reverse=True) == [
        '15.2(7)E10', '15.2(7)E3', '15.2(4)E10']
    assert version_sort(['1.0-1', '1.0~rc1-1', '1:0.9-1', '1.0-1+deb12u1'], 'debian') == [
        '1.0~rc1-1', '1.0-1', '1.0-1+deb12u1', '1:0.9-1']


def test_errors_name_the_value():
    with pytest.raises(AnsibleFilterError, match=r"invalid ios version '17.9.4a'"):
        version_compare('17.9.4a', '15.2(7)E3', 'ios')
    with pytest.raises(AnsibleFilterError, match='unknown version scheme'):
        version_compare('1', '2', 'windows')
    with pytest.raises(AnsibleFilterError, match="invalid debian version '1.0-'"):
        version_sort(['1.0', '1.0-'], 'debian')
