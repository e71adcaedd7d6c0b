"""Runs healthit.patching.windows_patch against the ansible.windows CONTRACT DOUBLE and collects what it decided.

The runner (double_run.py) puts the double first on ANSIBLE_COLLECTIONS_PATH. Each test session gets fresh
copies of the scenarios, so the state files start clean.
"""
import os
import shutil

import pytest

# pytest puts this directory on sys.path for its conftest: the runner is a plain module beside it.
from double_run import Run, write_scenarios


@pytest.fixture(scope='session')
def windows_scenarios(tmp_path_factory):
    base = tmp_path_factory.mktemp('windows-double')
    scenario_dir = str(base / 'scenarios')
    write_scenarios(scenario_dir)
    return str(base), scenario_dir


@pytest.fixture(scope='session')
def first_run(windows_scenarios):
    base, scenario_dir = windows_scenarios
    return Run(scenario_dir, os.path.join(base, 'evidence-1'))


@pytest.fixture(scope='session')
def second_run(first_run, windows_scenarios):
    """The same hosts again, on the state the first run left: the re-run must be idempotent."""
    base, scenario_dir = windows_scenarios
    return Run(scenario_dir, os.path.join(base, 'evidence-2'))


@pytest.fixture()
def fresh_scenarios(tmp_path):
    directory = str(tmp_path / 'scenarios')
    write_scenarios(directory)
    return directory


def copy_tree(src, dst):
    shutil.copytree(src, dst)
