#!/usr/bin/python3
"""labpkg-web: the lab's stand-in for a clinical web application, answering GET /health.

200 and the running version while healthy; 503 when /etc/labweb/break-version lists the running
version (one version per line), so a test can make exactly one version unhealthy.
"""
import http.server

VERSION = "@VERSION@"
BREAK_FILE = "/etc/labweb/break-version"


def broken():
    try:
        with open(BREAK_FILE, encoding="utf-8") as handle:
            return VERSION in (line.strip() for line in handle)
    except OSError:
        return False


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "labweb/" + VERSION

    def do_GET(self):
        if self.path != "/health":
            self._reply(404, "not found\n")
        elif broken():
            self._reply(503, "labpkg-web %s unhealthy\n" % VERSION)
        else:
            self._reply(200, "labpkg-web %s ok\n" % VERSION)

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
    http.server.ThreadingHTTPServer(("127.0.0.1", 8080), Handler).serve_forever()
