"""A one-token identity API for benchmarking the object proxy on its own.

Answers GET /identity/v3/auth/tokens for the given token as a member of the given
project, so the proxy's token validation (cached 30 s) works without a full cloud.

    python3 stub_identity.py --port 28770 --token T --project bench
"""

from __future__ import annotations

import argparse
import http.server
import json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--project", default="bench")
    args = parser.parse_args()
    doc = json.dumps({"token": {
        "user": {"id": "bench-user", "name": "bench", "domain": {"id": "default"}},
        "project": {"id": args.project, "name": args.project, "domain": {"id": "default"}},
        "roles": [{"id": "member", "name": "member"}],
        "expires_at": "2999-01-01T00:00:00.000000Z", "methods": ["password"]}}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server's naming
            ok = self.path.startswith("/identity/v3/auth/tokens") and \
                self.headers.get("X-Subject-Token") == args.token
            body = doc if ok else b'{"error": {"code": 404}}'
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
