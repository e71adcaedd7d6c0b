"""Vendor approval register: fail-closed validation with file/line/field, and the approve/refuse decisions."""
import datetime
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.plugin_utils import _approval_register as approvals
from ansible_collections.healthit.patching.plugins.plugin_utils._source_data import SourceError

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "approval_register")


def load(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


INVALID = load("invalid.yml")
DECISIONS = load("decisions.yml")


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c["name"])
def test_invalid_register_names_line_and_field(case, tmp_path):
    path = tmp_path / "approvals.yml"
    path.write_text(case["register"], encoding="utf-8")
    with pytest.raises(SourceError) as err:
        approvals.load_register(str(path))
    assert case["error"] in str(err.value)
    assert err.value.line == case["line"]
    assert err.value.field == case.get("field")
    assert str(path) in str(err.value)


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c["name"])
def test_invalid_register_refuses_every_decision(case, tmp_path):
    path = tmp_path / "approvals.yml"
    path.write_text(case["register"], encoding="utf-8")
    result = approvals.decide_from_file(str(path), "labapp-ehr", "1.1", "lnx-test-01", groups=["wave_test"])
    assert result["approved"] is False and result["valid"] is False and result["covered"] is False
    assert result["reason"].startswith("approval register invalid: %s" % path)
    assert "line %s" % case["line"] in result["reason"]


def test_missing_register_refuses(tmp_path):
    result = approvals.decide_from_file(str(tmp_path / "nope.yml"), "labapp-ehr", "1.1", "lnx-test-01")
    assert result["approved"] is False
    assert "does not exist" in result["reason"]


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    path = tmp_path_factory.mktemp("approvals") / "approvals.yml"
    path.write_text(DECISIONS["register"], encoding="utf-8")
    return approvals.load_register(str(path))


@pytest.mark.parametrize("case", DECISIONS["cases"], ids=lambda c: c["name"])
def test_decision(case, register):
    query = dict(case["query"])
    today = query.pop("today")
    if not isinstance(today, datetime.date):
        today = datetime.date.fromisoformat(today)
    result = approvals.decide(register, query.pop("product"), query.pop("version"), query.pop("host"),
                              today=today, **query)
    assert result["approved"] is case["approved"], result["reason"]
    # every case is about a host the register covers unless it says otherwise
    assert result["covered"] is case.get("covered", True), result["reason"]
    if "reason" in case:
        assert case["reason"] in result["reason"]
    if case["approved"]:
        assert result["approval"]["package_sha256"]
        assert result["register_sha256"] == register.sha256
    else:
        assert result["approval"] is None
    if "approval" in case:
        assert result["approval"]["id"] == case["approval"]
