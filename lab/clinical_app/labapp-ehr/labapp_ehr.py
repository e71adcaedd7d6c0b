#!/usr/bin/python3
"""labapp-ehr: the lab's stand-in for a vendor-supported EHR interface application.

GET /health answers 200 and the running version while healthy, 503 when /etc/labapp-ehr/break-version
lists the running version (one per line), so a test can make exactly one version fail its post check.
A worker sends the interface queue: every second it moves messages from /var/spool/labapp-ehr/outbound
to /var/lib/labapp-ehr/sent, unless /etc/labapp-ehr/hold-queue exists (a stuck interface).
"""
import http.server
import os
import threading
import time

VERSION = "@VERSION@"
BREAK_FILE = "/etc/labapp-ehr/break-version"
HOLD_FILE = "/etc/labapp-ehr/hold-queue"
OUTBOUND = "/var/spool/labapp-ehr/outbound"
SENT = "/var/lib/labapp-ehr/sent"


def broken():
    try:
        with open(BREAK_FILE, encoding="utf-8") as handle:
            return VERSION in (line.strip() for line in handle)
    except OSError:
        return False


def send_queue():
    while True:
        if not os.path.exists(HOLD_FILE):
            try:
                for name in sorted(os.listdir(OUTBOUND)):
                    os.replace(os.path.join(OUTBOUND, name), os.path.join(SENT, name))
            except OSError:
                pass
        time.sleep(1)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "labapp-ehr/" + VERSION

    def do_GET(self):
        if self.path != "/health":
            self._reply(404, "not found\n")
        elif broken():
            self._reply(503, "labapp-ehr %s unhealthy\n" % VERSION)
        else:
            self._reply(200, "labapp-ehr %s ok\n" % VERSION)

    def _reply(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    threading.Thread(target=send_queue, daemon=True).start()
    http.server.ThreadingHTTPServer(("127.0.0.1", 8090), Handler).serve_forever()
