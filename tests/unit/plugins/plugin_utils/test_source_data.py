"""Reading outside files with line numbers, and dates that must be dates."""
import datetime
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.plugin_utils._source_data import (
    SourceError, load_yaml, parse_date, read_text)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "patch_inventory")

with open(os.path.join(DATA, "dates.yml"), encoding="utf-8") as _handle:
    DATES = yaml.safe_load(_handle)


@pytest.mark.parametrize("case", DATES, ids=lambda c: repr(c["value"]))
def test_parse_date(case):
    if "error" in case:
        with pytest.raises(SourceError) as caught:
            parse_date(case["value"], "r.yml", 7, "expires")
        assert case["error"] in str(caught.value)
        assert str(caught.value).startswith("r.yml, line 7, field 'expires': ")
    else:
        assert parse_date(case["value"], "r.yml", 7, "expires") == datetime.date.fromisoformat(case["date"])


def test_yaml_keeps_lines_of_maps_keys_and_items():
    data = load_yaml("x.yml", "top:\n  - a: 1\n    b: 2\n  - - x\n    - y\n")
    assert data.line == 1 and data.line_of("top") == 1
    assert data["top"].line_of(0) == 2 and data["top"].line_of(1) == 4
    assert data["top"][0].line_of("b") == 3
    assert data["top"][1].line_of(1) == 5


def test_yaml_impossible_date_stays_text():
    assert load_yaml("x.yml", "d: 2026-02-30\n")["d"] == "2026-02-30"


@pytest.mark.parametrize("text,line,words", [
    ("a: [1\nb: 2\n", 2, "not valid YAML"),
    ("a: 1\na: 2\n", 2, "duplicate key"),
    ("a: 1\n  b: 2\n", 2, "not valid YAML"),
])
def test_yaml_errors_name_the_line(text, line, words):
    with pytest.raises(SourceError) as caught:
        load_yaml("x.yml", text)
    assert caught.value.line == line and words in str(caught.value)


def test_read_text_drops_the_bom_and_refuses_other_encodings(tmp_path):
    good = tmp_path / "bom.csv"
    good.write_bytes(b"\xef\xbb\xbfhostname\r\n")
    assert read_text(str(good)) == "hostname\r\n"
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("h\u00f6st\n".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8"):
        read_text(str(bad))
    with pytest.raises(SourceError, match="does not exist"):
        read_text(str(tmp_path / "none.csv"))
