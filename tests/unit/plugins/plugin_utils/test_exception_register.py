"""Exception register helper: pattern reading, matching, and matching cost that does not grow with the register."""
import datetime
import fnmatch
import ipaddress
import os
import random

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.plugin_utils import _exception_register as register
from ansible_collections.healthit.patching.plugins.plugin_utils._exception_register import (
    ExceptionEntry, ExceptionIndex, classify_pattern)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "patch_inventory")


def load(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def entry(exc_id, patterns, expires=datetime.date(2099, 1, 1)):
    return ExceptionEntry(id=exc_id, hosts=list(patterns), kinds=[classify_pattern(p) for p in patterns],
                          owner="o", approved_by="CISO", approved_on=datetime.date(2026, 1, 1), expires=expires,
                          compensating_controls=[], line=1, path="register.yml")


@pytest.mark.parametrize("case", load("patterns.yml"), ids=lambda c: str(c["pattern"]))
def test_classify_pattern(case):
    if "error" in case:
        with pytest.raises(ValueError, match=case["error"]):
            classify_pattern(str(case["pattern"]))
    else:
        assert classify_pattern(str(case["pattern"]))[0] == case["kind"]


MATCHING = load("matching.yml")


@pytest.mark.parametrize("host", MATCHING["hosts"], ids=lambda h: h["name"])
def test_matching(host):
    entries = [entry(exc_id, patterns) for exc_id, patterns in MATCHING["exceptions"].items()]
    index = ExceptionIndex(entries)
    address = host.get("address")
    ip = None
    if address:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
    found = {entries[e].id for e, _p in index.match(host["name"], address, ip)}
    assert found == set(host["match"])


def brute_force(entries, name, address, ip):
    """The obvious hosts x exceptions scan, as the reference the index must agree with."""
    found = set()
    texts = [name.lower()] + ([address.lower()] if address and ip is None else []) + ([str(ip)] if ip else [])
    for e_index, item in enumerate(entries):
        for p_index, (kind, value) in enumerate(item.kinds):
            if kind == register.KIND_NAME and value in texts[:2]:
                found.add((e_index, p_index))
            elif kind == register.KIND_GLOB and any(fnmatch.fnmatchcase(t, value) for t in texts):
                found.add((e_index, p_index))
            elif kind in (register.KIND_ADDRESS, register.KIND_CIDR) and ip is not None:
                network = ipaddress.ip_network(value) if kind == register.KIND_CIDR else ipaddress.ip_network(ip)
                if ip.version == network.version and ip in network and (kind == register.KIND_CIDR or value == ip):
                    found.add((e_index, p_index))
    return found


def test_index_agrees_with_brute_force_on_a_random_estate():
    rng = random.Random(20261122)
    names = ["%s-%02d" % (rng.choice(["ws", "pacs", "mod", "db", "sw"]), i) for i in range(400)]
    patterns = []
    for _round in range(300):
        kind = rng.randrange(5)
        if kind == 0:
            patterns.append(rng.choice(names))
        elif kind == 1:
            patterns.append(rng.choice(["ws", "pacs", "mod", "db"]) + "-" + str(rng.randrange(10)) + "*")
        elif kind == 2:
            patterns.append("*-" + str(rng.randrange(10)) + rng.choice(["", "?", "[0-4]"]))
        elif kind == 3:
            prefix = rng.choice([20, 24, 26, 28, 30, 32])
            base = ipaddress.ip_address("10.0.0.0") + rng.randrange(4096)
            patterns.append(str(ipaddress.ip_network("%s/%d" % (base, prefix), strict=False)))
        else:
            patterns.append(str(ipaddress.ip_address("10.0.0.0") + rng.randrange(4096)))
    entries = [entry("E%d" % i, patterns[i:i + rng.randrange(1, 4)]) for i in range(0, 300, 2)]
    index = ExceptionIndex(entries)
    for name in names:
        ip = ipaddress.ip_address("10.0.0.0") + rng.randrange(4096) if rng.random() < 0.8 else None
        address = str(ip) if ip else None
        assert index.match(name, address, ip) == brute_force(entries, name, address, ip), name


def test_glob_candidates_do_not_grow_with_the_register():
    """2,000 globs with distinct literal prefixes: a host is tried against the few filed under its own."""
    entries = [entry("E%d" % i, ["h%04d*" % i]) for i in range(2000)]
    entries.append(entry("SUFFIX", ["*.pacs.example"]))
    index = ExceptionIndex(entries)
    assert len(list(index.candidates("h01234"))) == 1
    assert len(list(index.candidates("x-99"))) == 0
    assert len(list(index.candidates("viewer.pacs.example"))) == 1
    assert {entries[e].id for e, _pattern in index.match("h0123x", None, None)} == {"E123"}


def test_cidr_table_has_one_segment_per_boundary():
    """Overlapping CIDRs become disjoint segments: lookup is one bisect, whatever the register size."""
    entries = [entry("E%d" % i, ["10.%d.0.0/16" % (i % 200), "10.%d.%d.0/24" % (i % 200, i % 250)])
               for i in range(2000)]
    index = ExceptionIndex(entries)
    starts, refs = index.tables[4]
    assert starts == sorted(starts) and len(starts) == len(set(starts))
    assert len(starts) <= 4 * 2000
    found = index.match("x", "10.7.7.9", ipaddress.ip_address("10.7.7.9"))
    # every E<i> with i % 200 == 7 covers 10.7.0.0/16; those with i % 250 == 7 also cover 10.7.7.0/24
    assert {entries[e].id for e, _p in found} == {"E%d" % i for i in range(2000) if i % 200 == 7}
    assert {(entries[e].id, p) for e, p in found if p == 1} == {
        ("E%d" % i, 1) for i in range(2000) if i % 200 == 7 and i % 250 == 7}


def test_load_register_keeps_digest_and_lines(tmp_path):
    path = tmp_path / "register.yml"
    text = ("exceptions:\n  - id: E1\n    hosts: [a]\n    owner: o\n    approved_by: CISO\n"
            "    approved_on: 2026-01-01\n    expires: 2026-06-30\n")
    path.write_text(text, encoding="utf-8")
    loaded = register.load_register(str(path))
    import hashlib
    assert loaded.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert [(e.id, e.line, e.expires) for e in loaded.exceptions] == [("E1", 2, datetime.date(2026, 6, 30))]
    assert loaded.exceptions[0].is_active(datetime.date(2026, 6, 30))
    assert not loaded.exceptions[0].is_active(datetime.date(2026, 7, 1))
