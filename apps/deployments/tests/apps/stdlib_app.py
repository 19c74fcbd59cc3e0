"""A deployable app with the standard library only: HTTP routes for the proxy tests and a minimal
RFC 6455 WebSocket echo at /ws. It listens on 0.0.0.0:$PORT like any Hangar app."""

import base64
import hashlib
import json
import os
import socketserver
import struct
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INSTANCE = uuid.uuid4().hex[:12]
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per response (flushed after each request) and no Nagle delay on keep-alive.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        print("request:", fmt % args, flush=True)

    def _send(self, status, body, content_type="text/plain", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self._websocket()
        if self.path == "/":
            return self._send(200, f"hello from the app {INSTANCE} base={os.environ.get('HANGAR_BASE_PATH')}")
        if self.path.startswith("/headers"):
            body = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
            return self._send(200, json.dumps(body), "application/json")
        if self.path == "/redirect":
            return self._send(302, "", extra=[("Location", "/target?x=1")])
        if self.path == "/cookie":
            return self._send(
                200, "cookies", extra=[("Set-Cookie", "app_pref=dark; Path=/"), ("Set-Cookie", "hangar_access=evil")]
            )
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for index in range(5):
                chunk = f"part-{index}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return None
        return self._send(404, "no such page")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        return self._send(201, body, self.headers.get("Content-Type") or "application/octet-stream")

    do_PUT = do_POST
    do_PATCH = do_POST

    def do_DELETE(self):
        return self._send(204, "")

    def _websocket(self):
        accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + WS_GUID).encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        protocols = [p.strip() for p in self.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        if protocols:
            self.send_header("Sec-WebSocket-Protocol", protocols[0])
        self.end_headers()
        self.wfile.flush()
        while True:
            frame = self._read_frame()
            if frame is None:
                return
            opcode, payload = frame
            if opcode == 8:
                self._write_frame(8, payload[:2])
                return
            if opcode == 9:
                self._write_frame(10, payload)
            elif opcode in (1, 2):
                reply = b"echo:" + payload if opcode == 1 else payload[::-1]
                self._write_frame(opcode, reply)

    def _read_frame(self):
        head = self.rfile.read(2)
        if len(head) < 2:
            return None
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(length)
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def _write_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([len(payload)])
        elif len(payload) < 65536:
            header += bytes([126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([127]) + struct.pack("!Q", len(payload))
        self.wfile.write(header + payload)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


socketserver.TCPServer.allow_reuse_address = True
print(f"app {INSTANCE} listening on {os.environ['PORT']}", flush=True)
Server(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
