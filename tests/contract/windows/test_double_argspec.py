"""The ansible.windows CONTRACT DOUBLE must accept exactly the options of the real modules.

A unit-style check kept with the double and marked contract so it runs in the contract stage. The double's
modules are documentation only; its action plugins validate task arguments against the spec that
plugin_utils/_double.py reads from that documentation. This compares that spec with the options documented by
the real ansible.windows installed in the venv (names, types, defaults, choices, aliases, element types,
required), so an upgrade of ansible.windows that adds, removes or changes an option fails here instead of
letting the double drift.
"""
import ast
import glob
import importlib.util
import json
import os
import re
import subprocess
import sysconfig

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

pytestmark = pytest.mark.contract

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DOUBLE_COLLECTIONS = os.path.join(HERE, 'collections')
DOUBLE_PLUGINS = os.path.join(DOUBLE_COLLECTIONS, 'ansible_collections', 'ansible', 'windows', 'plugins')
DOUBLE_MODULES = os.path.join(DOUBLE_PLUGINS, 'modules')
REAL_MODULES = os.path.join(sysconfig.get_paths()['purelib'], 'ansible_collections', 'ansible', 'windows',
                            'plugins', 'modules')
DOUBLED = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(DOUBLE_MODULES, '*.py')))
COMPARED = ('type', 'default', 'choices', 'aliases', 'elements', 'required')


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HELPER = _load('double_helper', os.path.join(DOUBLE_PLUGINS, 'plugin_utils', '_double.py'))


def _double(name):
    return _load('double_' + name, os.path.join(DOUBLE_MODULES, name + '.py'))


def _options(name):
    return yaml.safe_load(_double(name).DOCUMENTATION)['options']


def _spec(name):
    """The spec the double's action plugin validates with (read from the documentation, as it does)."""
    return HELPER.argument_spec(_options(name))


def _real_doc(name):
    py, yml = os.path.join(REAL_MODULES, name + '.py'), os.path.join(REAL_MODULES, name + '.yml')
    if os.path.exists(py):
        with open(py, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'DOCUMENTATION':
                return yaml.safe_load(node.value.value)
    with open(yml, encoding='utf-8') as f:
        return yaml.safe_load(f)['DOCUMENTATION']


def _normalise(options):
    out = {}
    for name, option in (options or {}).items():
        entry = {k: option.get(k) for k in COMPARED}
        entry['type'] = entry['type'] or 'str'
        entry['required'] = bool(entry['required'])
        entry['aliases'] = sorted(entry['aliases'] or [])
        if entry['type'] == 'list' and entry['default'] is not None and not isinstance(entry['default'], list):
            entry['default'] = [entry['default']]
        sub = option.get('suboptions', option.get('options'))
        entry['suboptions'] = _normalise(sub) if sub else None
        out[name] = entry
    return out


def test_the_real_collection_is_there():
    assert os.path.isdir(REAL_MODULES), 'ansible.windows not found in the venv at %s' % REAL_MODULES


def test_every_module_the_role_uses_is_doubled():
    used = set()
    for path in glob.glob(os.path.join(ROOT, 'roles', 'windows_patch', 'tasks', '*.yml')):
        with open(path, encoding='utf-8') as f:
            used.update(re.findall(r'^\s*-?\s*ansible\.windows\.(\w+):', f.read(), re.M))
    assert used and used <= set(DOUBLED), 'role uses modules the double lacks: %s' % sorted(used - set(DOUBLED))


@pytest.mark.parametrize('name', DOUBLED)
def test_argument_spec_matches_the_real_module(name):
    real = _real_doc(name)
    assert 'extends_documentation_fragment' not in real, 'fragments not handled: compare them too'
    assert _normalise(_spec(name)) == _normalise(real.get('options'))


def _ps1_option_names(name):
    """Option names from the real PowerShell module's own spec (Ansible.Basic $spec or legacy Get-AnsibleParam)."""
    path = os.path.join(REAL_MODULES, name + '.ps1')
    if not os.path.exists(path):
        return None  # action-only module (win_reboot): its documentation is the spec
    with open(path, encoding='utf-8') as f:
        text = f.read()
    legacy = re.findall(r'Get-AnsibleParam\s.*?-name\s+"(\w+)"', text)
    if legacy:
        return set(legacy)
    spec = re.search(r'\$spec\s*=\s*@\{(.*?)\n\}', text, re.S).group(1)
    options = re.search(r'\n(\s+)options\s*=\s*@\{', spec)
    indent = len(options.group(1)) + 4
    return set(re.findall(r'\n {%d}([A-Za-z_]\w*)\s*=\s*@\{' % indent, spec[options.end() - 1:]))


@pytest.mark.parametrize('name', DOUBLED)
def test_option_names_match_the_real_powershell_spec(name):
    """The documentation could lag the code; the option names must also match what the module really accepts."""
    names = _ps1_option_names(name)
    if names is None:
        assert name == 'win_reboot'
        return
    assert names == set(_spec(name))


@pytest.mark.parametrize('name', DOUBLED)
def test_the_double_says_what_it_is(name):
    module = _double(name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert 'CONTRACT DOUBLE' in doc['description'][0] and 'never installed for users' in doc['description'][0]
    # Documentation only: a second copy of the options (an ARGUMENT_SPEC, a main()) could drift from it.
    assert not [n for n in vars(module) if n not in ('DOCUMENTATION', 'EXAMPLES', 'RETURN') and not n.startswith('_')
                and n not in ('absolute_import', 'division', 'print_function')]


@pytest.mark.parametrize('name', DOUBLED)
def test_the_documented_options_are_a_working_argument_spec(name):
    """Ansible accepts the spec read from the docs and fills in every documented default."""
    options = _options(name)
    spec = _spec(name)
    required = {option: 'x' for option, entry in spec.items() if entry.get('required')}
    result = ArgumentSpecValidator(spec).validate(required)
    assert not result.error_messages
    for option, entry in options.items():
        if 'default' in entry:
            default = entry['default']
            if entry.get('type') == 'list' and not isinstance(default, list):
                default = [default]
            assert result.validated_parameters[option] == default, option


def test_ansible_doc_renders_the_double():
    """The shared attributes come from the double's doc fragment: ansible-doc must resolve it for every module."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=DOUBLE_COLLECTIONS, ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-doc'), '--json', '-t', 'module',
                           *['ansible.windows.' + name for name in DOUBLED]],
                          env=env, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted('ansible.windows.' + name for name in DOUBLED)
    for name in DOUBLED:
        doc = docs['ansible.windows.' + name]['doc']
        assert set(doc['options']) == set(_options(name)), name
        assert doc['attributes']['check_mode']['support'] == 'full', name
        assert doc['author'], name
