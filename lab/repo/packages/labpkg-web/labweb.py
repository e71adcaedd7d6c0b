#!/usr/bin/python3
"""labpkg-web: the lab's stand-in for a clinical web application, answering GET /health.

200 and the running version while healthy; 503 when /etc/labweb/break-version lists the running
version (one version per line), so a test can make exactly one version unhealthy.

This file is also the lab's one small /health server for other lab packages: lab/clinical_app/build.sh
ships it in labapp-ehr as labhealth.py, whose program calls serve_health() with its own name and port.
"""
import http.server

VERSION = "@VERSION@"


def listed(path, version):
    """Whether the file at path lists version on a line of its own (no file lists nothing)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return version in (line.strip() for line in handle)
    except OSError:
        return False


def serve_health(port, product, version, break_file, server_name=None):
    """Answer GET /health on 127.0.0.1:port for ever: 200 "<product> <version> ok", 503 while break_file
    lists version, 404 for any other path."""

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "%s/%s" % (server_name or product, version)

        def do_GET(self):
            if self.path != "/health":
                self._reply(404, "not found\n")
            elif listed(break_file, version):
                self._reply(503, "%s %s unhealthy\n" % (product, version))
            else:
                self._reply(200, "%s %s ok\n" % (product, version))

        def _reply(self, code, text):
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    serve_health(8080, "labpkg-web", VERSION, "/etc/labweb/break-version", server_name="labweb")
