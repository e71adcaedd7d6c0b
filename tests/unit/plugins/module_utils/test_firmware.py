"""Firmware catalogue and IOS output parsing from data tables (data/firmware/*.yml)."""
import os

import pytest
import yaml

from ansible_collections.healthit.patching.plugins.module_utils import _firmware

DATA = os.path.join(os.path.dirname(__file__), 'data', 'firmware')


def _load(name):
    with open(os.path.join(DATA, name), encoding='utf-8') as f:
        return yaml.safe_load(f)


CAT = _load('catalogue.yml')
OUT = _load('ios_outputs.yml')


def _p(rows, *keys):
    return [pytest.param(*[r.get(k) for k in keys], id=r['id']) for r in rows]


@pytest.mark.parametrize('catalogue,platform,model,expected', _p(CAT['found'], 'catalogue', 'platform', 'model', 'expected'))
def test_target_found(catalogue, platform, model, expected):
    assert _firmware.target(catalogue, platform, model) == expected


@pytest.mark.parametrize('catalogue,platform,model', _p(CAT['not_found'], 'catalogue', 'platform', 'model'))
def test_target_not_found(catalogue, platform, model):
    assert _firmware.target(catalogue, platform, model) == {}


@pytest.mark.parametrize('catalogue,model,error', _p(CAT['errors'], 'catalogue', 'model', 'error'))
def test_target_error_names_the_field(catalogue, model, error):
    with pytest.raises(_firmware.CatalogueError) as exc:
        _firmware.target(catalogue, 'ios', model or 'C9300-48P')
    assert error in str(exc.value)


def test_validate_counts_and_rejects():
    assert _firmware.validate(CAT['found'][0]['catalogue']) == 1
    with pytest.raises(_firmware.CatalogueError):
        _firmware.validate(CAT['errors'][0]['catalogue'])


def test_lab_catalogue_is_valid():
    path = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'inventories', 'lab', 'group_vars', 'network.yml')
    with open(path, encoding='utf-8') as f:
        catalogue = yaml.safe_load(f)['network_firmware_catalogue']
    assert _firmware.validate(catalogue) >= 2


@pytest.mark.parametrize('kind,output,expected', _p(OUT['cases'], 'kind', 'output', 'expected'))
def test_parse(kind, output, expected):
    assert _firmware.parse(output, kind) == expected


@pytest.mark.parametrize('kind,output,error', _p(OUT['errors'], 'kind', 'output', 'error'))
def test_parse_refuses_unexpected_output(kind, output, error):
    with pytest.raises(ValueError) as exc:
        _firmware.parse(output, kind)
    assert error in str(exc.value)
