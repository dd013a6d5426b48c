#!/usr/bin/env python3
"""Serves a fixture exposition whose samples change with every scrape (counters grow, one of
them resets every 17 scrapes; gauges cycle), for the differential test of tacho's PromQL
subset against a real Prometheus.

  exposition_server.py --port-file F
"""
import argparse
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def exposition(n):
    lines = [
        "# TYPE fx_requests_total counter",
        'fx_requests_total{code="200",handler="/a"} %d' % (10 * n + n % 3),
        'fx_requests_total{code="500",handler="/a"} %d' % (n // 2),
        'fx_requests_total{code="200",handler="/b"} %d' % ((n % 17) * 7),
        "# TYPE fx_conns gauge",
        'fx_conns{db="x",state="idle"} %d' % (5 + n % 7),
        'fx_conns{db="x",state="active"} %d' % (2 + n % 4),
        'fx_conns{db="y",state="idle"} 3',
        "# TYPE fx_max_conns gauge",
        'fx_max_conns{db="x"} 20',
        'fx_max_conns{db="y"} 10',
        "# TYPE fx_temp gauge",
        'fx_temp{room="a"} %g' % (((n * 37) % 11) * 0.5),
        'fx_temp{room="b"} %g' % (20.25 - (n % 5) * 0.125),
        "# TYPE fx_up gauge",
        'fx_up{kind="pg"} 1',
        'fx_up{kind="redis"} 0',
    ]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    args = p.parse_args()
    lock = threading.Lock()
    state = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with lock:
                state["n"] += 1
                body = exposition(state["n"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
