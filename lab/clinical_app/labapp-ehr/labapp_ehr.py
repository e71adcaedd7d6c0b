#!/usr/bin/python3
"""labapp-ehr: the lab's stand-in for a vendor-supported EHR interface application.

GET /health answers 200 and the running version while healthy, 503 when /etc/labapp-ehr/break-version
lists the running version (one per line), so a test can make exactly one version fail its post check.
A worker sends the interface queue: every second it moves messages from /var/spool/labapp-ehr/outbound
to /var/lib/labapp-ehr/sent, unless /etc/labapp-ehr/hold-queue exists (a stuck interface).
The /health server is labhealth.py beside this file: the lab's one health server, labpkg-web's labweb.py,
copied in by lab/clinical_app/build.sh.
"""
import os
import threading
import time

from labhealth import serve_health

VERSION = "@VERSION@"
BREAK_FILE = "/etc/labapp-ehr/break-version"
HOLD_FILE = "/etc/labapp-ehr/hold-queue"
OUTBOUND = "/var/spool/labapp-ehr/outbound"
SENT = "/var/lib/labapp-ehr/sent"


def send_queue():
    while True:
        if not os.path.exists(HOLD_FILE):
            try:
                for name in sorted(os.listdir(OUTBOUND)):
                    os.replace(os.path.join(OUTBOUND, name), os.path.join(SENT, name))
            except OSError:
                pass
        time.sleep(1)


if __name__ == "__main__":
    threading.Thread(target=send_queue, daemon=True).start()
    serve_health(8090, "labapp-ehr", VERSION, BREAK_FILE)
