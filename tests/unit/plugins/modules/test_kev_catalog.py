"""kev_catalog run in-process as Ansible runs it (module args in, JSON out), from the real snapshot."""
import functools
import http.server
import json
import os
import threading

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.healthit.patching.plugins.modules import kev_catalog

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
KEV = os.path.join(ROOT, 'tests', 'data', 'kev')
FULL = os.path.join(KEV, 'full', 'known_exploited_vulnerabilities.json')
TRIMMED = os.path.join(KEV, 'catalog-trimmed.json')


def run(capsys, check_mode=False, diff=False, **args):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            kev_catalog.main()
    out = json.loads(capsys.readouterr().out)
    out['_rc'] = exc.value.code
    return out


@pytest.fixture
def feed(tmp_path):
    """A loopback HTTP server serving files from a directory the test fills."""
    root = tmp_path / 'www'
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, 'http://127.0.0.1:%d/' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_full_snapshot_from_file(capsys, tmp_path):
    lkg = tmp_path / 'state' / 'kev' / 'lkg.json'
    res = run(capsys, src=FULL, lkg_path=str(lkg))
    assert res['_rc'] == 0 and res['changed'] is True
    assert res['catalog_version'] == '2025.08.25' and res['count'] == 1404
    assert res['sha256'] == '901b1f227941a3879a3e39fcb857bb6f7252bf9d71b63ef08d50a836d5ab1bd2'
    assert res['used_last_known_good'] is False and res['changes'] is None
    assert res['catalog_path'] == str(lkg)
    assert len(res['due_before_added']) == 15
    assert res['entries'] == []
    again = run(capsys, src=FULL, lkg_path=str(lkg), cve_ids=['CVE-2021-44228', 'CVE-2025-4664'])
    assert again['changed'] is False
    assert [e['cveID'] for e in again['entries']] == ['CVE-2021-44228']
    assert again['missing_cve_ids'] == ['CVE-2025-4664']


def test_url_feed_truncated_then_last_known_good(capsys, tmp_path, feed):
    root, base = feed
    lkg = tmp_path / 'lkg.json'
    with open(FULL, 'rb') as f:
        good = f.read()
    (root / 'kev.json').write_bytes(good)
    first = run(capsys, url=base + 'kev.json', lkg_path=str(lkg))
    assert first['_rc'] == 0 and first['source'] == base + 'kev.json' and lkg.read_bytes() == good

    (root / 'kev.json').write_bytes(good[:len(good) // 2])
    refused = run(capsys, url=base + 'kev.json', lkg_path=str(lkg))
    assert refused['_rc'] == 1 and refused['failed']
    assert refused['msg'].startswith(base + 'kev.json: line ')
    assert 'truncated download?' in refused['msg']
    assert refused['error']['line'] > 1

    used = run(capsys, url=base + 'kev.json', lkg_path=str(lkg), use_last_known_good=True)
    assert used['_rc'] == 0 and used['used_last_known_good'] is True
    assert 'truncated download?' in used['last_known_good_reason']
    assert used['catalog_path'] == str(lkg) and used['sha256'] == first['sha256']
    assert lkg.read_bytes() == good

    missing = run(capsys, url=base + 'nothing.json', lkg_path=str(lkg), use_last_known_good=True)
    assert missing['used_last_known_good'] and 'HTTP 404' in missing['last_known_good_reason']


def test_later_catalog_reports_changes(capsys, tmp_path):
    lkg = tmp_path / 'lkg.json'
    run(capsys, src=os.path.join(KEV, 'diff', 'previous.json'), lkg_path=str(lkg))
    res = run(capsys, src=os.path.join(KEV, 'diff', 'current.json'), lkg_path=str(lkg), diff=True)
    assert res['changes']['removed'] == ['CVE-2025-32433']
    assert res['changes']['due_date_shortened'] == ['CVE-2021-44228']
    assert [e['cveID'] for e in res['entries']] == ['CVE-2025-8876']
    assert 'removed: CVE-2025-32433' in res['diff']['after']
    assert 'catalogVersion 2025.08.24' in res['diff']['before']


def test_check_mode_leaves_the_state_alone(capsys, tmp_path):
    lkg = tmp_path / 'lkg.json'
    res = run(capsys, check_mode=True, src=TRIMMED, lkg_path=str(lkg))
    assert res['changed'] is True and not lkg.exists()
    assert res['catalog_path'] == TRIMMED


def test_wrong_count_fails_naming_file_line_field(capsys, tmp_path):
    with open(TRIMMED) as f:
        text = f.read().replace('"count": 33,', '"count": 32,')
    bad = tmp_path / 'kev.json'
    bad.write_text(text)
    res = run(capsys, src=str(bad))
    assert res['failed'] and res['error']['field'] == 'count'
    assert res['msg'] == ('%s: line %d, column 14: field count: count is 32 but the catalog holds 33 '
                          'vulnerabilities (truncated or edited file?)' % (bad, res['error']['line']))


def test_missing_source_file(capsys, tmp_path):
    res = run(capsys, src=str(tmp_path / 'nope.json'))
    assert res['failed'] and 'cannot read catalog' in res['msg']


def test_src_and_url_are_exclusive(capsys):
    res = run(capsys, src=TRIMMED, url='http://127.0.0.1:1/')
    assert res['failed'] and 'mutually exclusive' in res['msg']


def test_without_jsonschema_the_module_fails_clearly(capsys, monkeypatch):
    monkeypatch.setattr(kev_catalog._kev, 'jsonschema', None)
    res = run(capsys, src=TRIMMED)
    assert res['failed'] and 'jsonschema' in res['msg']
