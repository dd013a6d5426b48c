#!/usr/bin/env python3
"""A tiny HTTP receiver for tacho's webhook tests: records every POST it gets and can be told
to fail its first N requests.

  webhook_receiver.py --port-file F --record FILE [--port P] [--fail N] [--fail-status 503]
                      [--retry-after SECONDS] [--retry-after-date SECONDS]
                      [--cert PEM --key PEM]

Failed answers carry Retry-After: SECONDS verbatim with --retry-after, or an HTTP-date SECONDS
from now with --retry-after-date.

Binds 127.0.0.1 (port 0 unless --port; HTTPS with --cert/--key), writes the port to F once listening, and appends one
JSON object per request to FILE: {"time": unix seconds, "path", "status" (what it answered),
"headers": {lower-case name: value}, "body": the raw body as text}.
"""
import argparse
import email.utils
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--retry-after", default="")
    p.add_argument("--retry-after-date", type=float, default=None)
    p.add_argument("--cert", default="")
    p.add_argument("--key", default="")
    args = p.parse_args()
    lock = threading.Lock()
    state = {"left": args.fail}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8", "replace")
            with lock:
                failing = state["left"] > 0
                if failing:
                    state["left"] -= 1
                status = args.fail_status if failing else 200
                with open(args.record, "a") as f:
                    f.write(json.dumps({
                        "time": time.time(), "path": self.path, "status": status,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body}) + "\n")
            self.send_response(status)
            if failing and args.retry_after:
                self.send_header("Retry-After", args.retry_after)
            elif failing and args.retry_after_date is not None:
                self.send_header("Retry-After", email.utils.formatdate(
                    time.time() + args.retry_after_date, usegmt=True))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
