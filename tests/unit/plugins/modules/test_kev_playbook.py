"""The KEV modules run by real ansible-playbook on localhost: docs render, module_utils travel."""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(__file__)
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
BIN = os.path.dirname(sys.executable)


def _env(tmp_path):
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), HEALTHIT_AUDIT_DIR=str(tmp_path / 'evidence'),
               HEALTHIT_PATCH_STATE_DIR=str(tmp_path / 'state'), PATH=BIN + os.pathsep + env.get('PATH', ''),
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    return env


needs_ansible = pytest.mark.skipif(shutil.which('ansible-playbook', path=BIN) is None,
                                   reason='ansible-playbook is not beside this python')


@needs_ansible
@pytest.mark.parametrize('name', ['kev_catalog', 'kev_exposure'])
def test_docs_render(tmp_path, name):
    out = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-t', 'module', 'healthit.patching.' + name],
                         cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert 'healthit.patching.' + name in out.stdout and 'ERROR' not in out.stderr


@needs_ansible
def test_playbook_on_localhost(tmp_path):
    state = tmp_path / 'state'
    state.mkdir()
    out = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,',
                          os.path.join(HERE, 'data', 'kev_playbook.yml'),
                          '-e', 'kev_root=' + ROOT, '-e', 'kev_state=' + str(state)],
                         cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    with open(state / 'out.json') as f:
        result = json.load(f)
    kev, exposure = result['kev'], result['exposure']
    assert kev['count'] == 1404 and kev['catalog_path'] == str(state / 'kev' / 'last-known-good.json')
    assert exposure['by_host']['lnx-prod-01']['packages'] == {'labpkg-web': '1.1'}
    assert exposure['by_host']['lnx-test-02']['exposed'] == []
    assert exposure['changed'] is True
    assert (state / 'kev_history' / 'CVE-2021-44228.jsonl').read_text().count('"identified"') == 1
