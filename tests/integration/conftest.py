"""Fixtures for integration tests that drive the lab's real targets with Ansible."""
import importlib.util
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")


def lab_env(**extra):
    """The environment lab/env.sh gives a shell, for subprocesses."""
    env = dict(os.environ)
    env.update(
        HEALTHIT_LAB_ROOT=ROOT,
        PATH=VENV_BIN + os.pathsep + env.get("PATH", ""),
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        CONTAINERS_CONF=os.path.join(ROOT, "lab", "linux", "containers.conf"),
        HEALTHIT_AUDIT_DIR=env.get("HEALTHIT_AUDIT_DIR", os.path.join(ROOT, ".lab", "evidence")),
        HEALTHIT_PATCH_STATE_DIR=env.get("HEALTHIT_PATCH_STATE_DIR", os.path.join(ROOT, ".lab", "state")),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd, env=None, check=True, timeout=1800, **kw):
    """Run a command from the repository root and keep its output for the failure message."""
    proc = subprocess.run(cmd, cwd=ROOT, env=env or lab_env(), capture_output=True, text=True,
                          timeout=timeout, check=False, **kw)
    if check and proc.returncode != 0:
        raise AssertionError("command failed (rc=%s): %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                             % (proc.returncode, " ".join(cmd), proc.stdout[-20000:], proc.stderr[-8000:]))
    return proc


def ansible_playbook(playbook, *args, env=None, check=True, **kw):
    return run([os.path.join(VENV_BIN, "ansible-playbook"), playbook, *args], env=env, check=check, **kw)


def ansible_adhoc(pattern, module, module_args="", *args, env=None, check=True):
    """Run an ad-hoc module and return {host: result} parsed from the json callback."""
    e = env or lab_env()
    e = dict(e, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = run([os.path.join(VENV_BIN, "ansible"), pattern, "-m", module, "-a", module_args, *args],
               env=e, check=check)
    data = json.loads(proc.stdout)
    results = {}
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            results.update(task.get("hosts", {}))
    return results


def json_env(**extra):
    """lab_env() with the ansible.posix.json stdout callback, for tests that read what a playbook printed."""
    return lab_env(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", **extra)


def reported_results(stdout, task_suffix="Report the result"):
    """{host: patch_result} from the json callback's output: what the tasks named ...task_suffix printed."""
    results = {}
    for one_play in json.loads(stdout)["plays"]:
        for task in one_play["tasks"]:
            if task["task"]["name"].endswith(task_suffix):
                for host, res in task["hosts"].items():
                    results[host] = res["patch_result"]
    return results


LAB_PACKAGES = ["labpkg-web", "labpkg-kernel", "labpkg-util"]


def package_versions(host, packages=None):
    """{package: version} installed in a lab container, as dpkg says."""
    out = subprocess.run(["podman", "exec", host, "dpkg-query", "-W", "-f", "${Package} ${Version}\\n",
                          *(packages or LAB_PACKAGES)], capture_output=True, text=True, check=True, env=lab_env()).stdout
    return dict(line.split() for line in out.splitlines())


def boot_time(host):
    """When the lab container's PID 1 started: changes with every real reboot."""
    return subprocess.run(["podman", "exec", host, "stat", "-c", "%Y", "/proc/1"], capture_output=True, text=True,
                          check=True, env=lab_env()).stdout.strip()


LOCK_PATH = os.path.join(ROOT, ".lab", "lab.lock")
SWITCHES_CTL = os.path.join(ROOT, "lab", "switches", "ctl.py")

# The lab switches' control module (reset, inject, state, the switches' test lock), loaded once for every test.
_spec = importlib.util.spec_from_file_location("lab_switches_ctl", SWITCHES_CTL)
switches_ctl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(switches_ctl)


def switch_ctl(*args):
    """Run lab/switches/ctl.py (reset, inject, state) as tests and shells do."""
    return run([os.path.join(VENV_BIN, "python"), SWITCHES_CTL, *args])


def switch_state(name):
    """A lab switch's state as ctl.py reports it: image, boot variable, reloads and its event history."""
    return json.loads(switch_ctl("state", name).stdout)


def switch_events_since_reset(name):
    """Every event the switch recorded since the last lab reset, in order."""
    hist = switch_state(name)["history"]
    last_reset = max(i for i, h in enumerate(hist) if h["event"] == "lab reset")
    return [h["event"] for h in hist[last_reset + 1:]]


def lab_locked():
    """Hold the lab: an exclusive flock on .lab/lab.lock, released by the kernel if the process dies.

    The lab's hosts, switches and emulators are shared state: two pytest sessions of this checkout (or
    anything else that takes the lock) interleaving their resets and waves break each other. Re-entrant
    within one process. From a shell: `flock -o .lab/lab.lock make lab-reset` (-o: without it a daemon the
    command restarts inherits the lock and holds it until it dies).
    """
    return switches_ctl.reentrant_flock(LOCK_PATH)


@pytest.fixture(scope="session")
def lab():
    """The lab, brought up once per test session (idempotent when it is already up)."""
    with lab_locked():
        run(["bash", os.path.join(ROOT, "lab", "up.sh")], timeout=3600)
    return ROOT


@pytest.fixture(scope="module", autouse=True)
def lab_lock():
    """One test module at a time drives the lab (modules set it up in module-scoped fixtures)."""
    with lab_locked():
        yield
