"""Control the lab switches from tests and shells: reset state, inject failures, read state.

  ctl.py reset [SWITCH ...]            back to the initial firmware/config (all when none named)
  ctl.py inject SWITCH KEY=JSON ...    e.g. corrupt_next_copy=true flash_free_bytes=1024
  ctl.py state [SWITCH]                print the state the lab process last saved
  ctl.py locked CMD ...                run CMD holding the switches' test lock (see exclusive())
"""
import contextlib
import fcntl
import json
import os
import signal
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(ROOT, ".lab", "run", "switches")
KNOWN_KEYS = ("corrupt_next_copy", "wrong_version_next_reload", "interfaces_down_next_reload", "flash_free_bytes")


_HELD = {}  # lock file path -> [depth, descriptor] of the locks this process holds


@contextlib.contextmanager
def reentrant_flock(path):
    """An exclusive flock on ``path``, released if the holder dies, and re-entrant within one process:
    a holder that takes it again goes on (a second flock on a new descriptor of the same file would wait
    for itself forever). The lab's tests use it for the switches (``exclusive``) and for the whole lab
    (tests/integration/conftest.py)."""
    held = _HELD.get(path)
    if held is None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        held = _HELD[path] = [0, fd]
    held[0] += 1
    try:
        yield
    finally:
        held[0] -= 1
        if held[0] == 0:
            del _HELD[path]
            fcntl.flock(held[1], fcntl.LOCK_UN)
            os.close(held[1])


def exclusive():
    """Hold the lab switches for one test: tests that reset or reload switches must not overlap.

    Every test (of any suite) that drives the lab switches should run inside this lock; it blocks
    until the holder is done (flock on .lab/run/switches/tests.lock, released if the holder dies).
    Re-entrant: a test inside a module fixture that already holds it goes on.
    """
    return reentrant_flock(os.path.join(RUN, "tests.lock"))


def reset(names=(), timeout=40):
    """Ask the lab process to reset switches and wait until it says it has."""
    with open(os.path.join(RUN, "pid"), encoding="utf-8") as f:
        pid = int(f.read().strip())
    token = uuid.uuid4().hex
    done = os.path.join(RUN, "reset.done")
    with open(os.path.join(RUN, "reset.request.json"), "w", encoding="utf-8") as f:
        json.dump({"names": list(names), "id": token}, f)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(done, encoding="utf-8") as f:
                if f.read().strip() == token:
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise RuntimeError("lab switches did not confirm the reset within %ss" % timeout)


def inject(name, **knobs):
    """Merge failure-injection knobs into a switch's control file."""
    for key in knobs:
        if key not in KNOWN_KEYS:
            raise ValueError("unknown injection %r (known: %s)" % (key, ", ".join(KNOWN_KEYS)))
    path = os.path.join(RUN, "%s.control.json" % name)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    data.update(knobs)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)


def state(name=None):
    with open(os.path.join(RUN, "state.json"), encoding="utf-8") as f:
        data = json.load(f)
    return data[name] if name else data


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "reset":
        reset(args)
    elif cmd == "inject" and args:
        inject(args[0], **{k: json.loads(v) for k, v in (a.split("=", 1) for a in args[1:])})
    elif cmd == "locked" and args:
        import subprocess  # pylint: disable=import-outside-toplevel
        with exclusive():
            return subprocess.call(args)
    elif cmd == "state":
        print(json.dumps(state(args[0] if args else None), indent=2, sort_keys=True))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
