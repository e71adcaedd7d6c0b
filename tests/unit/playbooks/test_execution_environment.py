"""execution-environment.yml: ansible-builder (v3) turns it into a complete build context.

The collection tarball is built from this checkout with ansible-galaxy, the EE definition and the files it names are
copied into a temporary directory (nothing is written into the checkout), and `ansible-builder create` runs there.
Building the image itself needs the base image and Galaxy, which this machine cannot reach.
"""
import os
import shutil
import subprocess
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")


def _run(cmd, cwd):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(cmd), proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    work = tmp_path_factory.mktemp("ee")
    with open(os.path.join(ROOT, "execution-environment.yml")) as handle:
        ee = yaml.safe_load(handle)
    for rel in (ee["dependencies"]["python"], ee["dependencies"]["system"], "execution-environment.yml"):
        os.makedirs(os.path.dirname(str(work / rel)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, rel), str(work / rel))
    built = work / "built"
    _run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(built), ROOT],
         cwd=str(work))
    (tarball,) = list(built.iterdir())
    for item in ee["additional_build_files"]:
        dest = work / item["src"]
        os.makedirs(os.path.dirname(str(dest)), exist_ok=True)
        shutil.copy(str(tarball), str(dest))
    _run([os.path.join(VENV_BIN, "ansible-builder"), "create", "-f", "execution-environment.yml",
          "--context", "context"], cwd=str(work))
    return {"ee": ee, "dir": work / "context", "tarball": tarball}


def test_definition_is_builder_v3(context):
    assert context["ee"]["version"] == 3


def test_context_has_containerfile_and_build_files(context):
    ctx = context["dir"]
    assert (ctx / "Containerfile").is_file()
    for name in ("requirements.txt", "requirements.yml", "bindep.txt", "scripts/assemble", "scripts/introspect.py",
                 "collections/healthit-patching.tar.gz"):
        assert (ctx / "_build" / name).is_file(), name


def test_containerfile_installs_the_collection_python_and_system_dependencies(context):
    text = (context["dir"] / "Containerfile").read_text()
    assert 'ARG PYCMD="/usr/bin/python3.11"' in text
    assert "ansible-galaxy collection install" in text and "-r requirements.yml" in text
    assert "introspect.py introspect --user-pip=requirements.txt --user-bindep=bindep.txt" in text
    assert "ENV ANSIBLE_CALLBACKS_ENABLED=healthit.patching.hipaa_audit" in text
    assert "ENV HEALTHIT_AUDIT_DIR=/var/lib/healthit/evidence" in text


def test_requirements_copied_verbatim(context):
    build = context["dir"] / "_build"
    with open(os.path.join(ROOT, "meta", "ee-requirements.txt")) as handle:
        assert (build / "requirements.txt").read_text() == handle.read()
    names = {line.split(">")[0].split("=")[0].strip() for line in (build / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")}
    assert {"jsonschema", "netaddr", "jmespath", "pypsrp", "pywinrm", "ansible-pylibssh", "lxml",
            "libvirt-python"} <= names
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    names = {c["name"] for c in galaxy["collections"]}
    assert "/build/collections/healthit-patching.tar.gz" in names and "awx.awx" in names


def test_tarball_in_context_is_this_collection(context):
    with tarfile.open(str(context["dir"] / "_build" / "collections" / "healthit-patching.tar.gz")) as tar:
        members = tar.getnames()
        manifest = yaml.safe_load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"]) == ("healthit", "patching")
    assert set(info["dependencies"]) >= {"ansible.windows", "cisco.ios", "community.libvirt"}
    assert "plugins/callback/hipaa_audit.py" in members and "playbooks/monthly_wave.yml" in members
    assert "meta/execution-environment.yml" in members and "bindep.txt" in members
    assert not [m for m in members if m.startswith((".venv", ".lab", "tests/", "lab/"))]


def test_collection_meta_points_builder_at_its_requirements():
    with open(os.path.join(ROOT, "meta", "execution-environment.yml")) as handle:
        meta = yaml.safe_load(handle)
    for rel in meta["dependencies"].values():
        assert os.path.isfile(os.path.join(ROOT, rel)), rel


def test_bindep_parses_with_bindep_syntax():
    """Every line is 'name [profiles]' as bindep reads it (builder's introspection fails the build otherwise)."""
    with open(os.path.join(ROOT, "bindep.txt")) as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _sep, rest = line.partition(" ")
            assert name and " " not in name, "bindep.txt line %d" % number
            assert not rest or (rest.startswith("[") and rest.endswith("]")), "bindep.txt line %d: %r" % (number, line)
