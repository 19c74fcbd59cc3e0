"""Answer every GET with ``record`` as JSON on 0.0.0.0:``port`` (blocks, like a real server)."""

import json
from http.server import BaseHTTPRequestHandler, HTTPServer


def serve(port: int, record: dict) -> None:
    body = json.dumps(record).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    HTTPServer(("0.0.0.0", int(port)), Handler).serve_forever()
