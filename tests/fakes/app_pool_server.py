#!/usr/bin/env python3
"""Serves an application's Prometheus exposition for tacho's app_pool tests.

  app_pool_server.py --port-file F --fixture FILE [--port P] [--token T] [--path /metrics]

Binds 127.0.0.1 (port 0 unless --port) and writes the port to F once listening. GET on --path
(default /metrics) answers with FILE as text/plain; version=0.0.4, re-read on every request, so
a test can change the values (write a new file and rename it over FILE). With --token, a request
without "Authorization: Bearer T" gets 401. A FILE that cannot be read gives 503 (the
application failing); any other path gives 404.
"""
import argparse
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--fixture", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token", default="")
    p.add_argument("--path", default="/metrics")
    args = p.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, status, body, content_type="text/plain; charset=utf-8"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            if self.path.split("?", 1)[0] != args.path:
                return self.answer(404, b"not found\n")
            if args.token and self.headers.get("Authorization", "") != "Bearer " + args.token:
                return self.answer(401, b"unauthorized\n")
            try:
                with open(args.fixture, "rb") as f:
                    body = f.read()
            except OSError as e:
                return self.answer(503, ("cannot read fixture: %s\n" % e.strerror).encode())
            self.answer(200, body, "text/plain; version=0.0.4; charset=utf-8")

        do_HEAD = do_GET

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
