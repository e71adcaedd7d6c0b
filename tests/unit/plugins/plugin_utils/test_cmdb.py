"""CMDB helper: spreadsheet headers and value normalisation (whole-file cases are in tests/unit/plugins/inventory)."""
import datetime
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.plugin_utils import _cmdb

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "patch_inventory")

with open(os.path.join(DATA, "columns.yml"), encoding="utf-8") as _handle:
    COLUMNS = yaml.safe_load(_handle)


@pytest.mark.parametrize("raw,expected", sorted(COLUMNS.items()))
def test_column_name(raw, expected):
    assert _cmdb.column_name(raw) == expected


def test_every_platform_has_families_that_exist():
    families = {f for fs in _cmdb.PLATFORM_FAMILIES.values() for f in fs}
    assert families == {"windows", "linux", "hypervisors", "network"}
    assert _cmdb.PLATFORM_FAMILIES["hyperv_hypervisor"] == ("windows", "hypervisors")


def test_extra_values_become_plain_json_types():
    value = {"when": datetime.date(2024, 5, 1), "tags": [" a ", ""], "n": 3}
    assert _cmdb.plain(value) == {"when": "2024-05-01", "tags": ["a", None], "n": 3}


def test_make_host_keeps_where_it_came_from():
    host = _cmdb.make_host({"hostname": "a-01", "platform": "LINUX", "owner": "o", "wave": "Test",
                            "address": "10.0.0.1"}, {}, "/x/hosts.csv", line=4)
    assert (host.platform, host.wave, str(host.ip), host.where) == ("linux", "test", "10.0.0.1", "hosts.csv line 4")


@pytest.mark.parametrize("column,value", [
    ("owner", "{{ lookup('pipe', 'id') }}"),
    ("site", "main{% raw %}"),
    ("service_desk_queue", "{# comment #}"),
    ("notes", {"nested": ["ok", "{{ 2 + 2 }}"]}),
])
def test_template_markup_is_refused_naming_the_field(column, value):
    record = {"hostname": "a-01", "platform": "linux", "owner": "o", "wave": "test", column: value}
    with pytest.raises(_cmdb.SourceError) as err:
        _cmdb._split_record(record, "/x/hosts.csv", 7, None)
    assert "line 7" in str(err.value) and "'%s'" % column in str(err.value) and "template markup" in str(err.value)


def test_braces_without_markup_are_fine():
    dummy, extra, dummy2 = _cmdb._split_record({"hostname": "a-01", "notes": "json {\"a\": 1}"}, "/x/hosts.csv", 3, None)
    assert extra["cmdb_notes"] == 'json {"a": 1}'
