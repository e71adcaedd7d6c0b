"""Hold one connection to the lab's libvirtd open for as long as the lab is up.

libvirtd frees the test driver's shared ``test:///default`` state when its last client leaves,
so without a standing connection every Ansible task would meet a freshly reset hypervisor.
The keeper runs libvirt's event loop so keepalive probes are answered, writes a ready file
once connected, and exits when told to (SIGTERM/SIGINT) or when libvirtd goes away.
"""
import argparse
import os
import signal
import sys

import libvirt


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", required=True)
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args()

    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    libvirt.virEventRegisterDefaultImpl()
    conn = libvirt.open(args.uri)
    conn.setKeepAlive(5, 3)

    def closed(_conn, reason, _opaque):
        sys.stderr.write("keeper: connection closed by libvirtd (reason %s)\n" % reason)
        stopping.append("closed")

    conn.registerCloseCallback(closed, None)
    # A timer keeps the loop waking up, so a signal is noticed within a second.
    libvirt.virEventAddTimeout(1000, lambda *_: None, None)
    with open(args.ready_file, "w", encoding="utf-8") as ready:
        ready.write("%d\n" % os.getpid())
    try:
        while not stopping:
            libvirt.virEventRunDefaultImpl()
    finally:
        try:
            os.unlink(args.ready_file)
        except FileNotFoundError:
            pass
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
