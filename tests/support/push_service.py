"""A web push service for the test suite: an independent implementation of
the receiving side of RFC 8030/8291/8292, on py_vapid and http_ece.

  POST /subscriptions              mint a subscription: a browser's P-256 key
                                   pair and auth secret, kept here; answers
                                   {"id", "endpoint", "keys": {"p256dh", "auth"}}
  POST /push/{id}                  a push: the VAPID `Authorization: vapid t=…,k=…`
                                   header must verify (py_vapid: ES256 with key k;
                                   aud the endpoint's origin, exp in the future and
                                   within 24 h, sub mailto:/https:), the body must
                                   decrypt (http_ece, aes128gcm) with the kept
                                   keys; 201 then, and the payload is recorded
  POST /subscriptions/{id}/answer  {"status": 410, "times": 1}: answer that status
                                   (after the checks) the next `times` pushes, or
                                   every push when `times` is null
  GET  /subscriptions/{id}         {"received": [payload, …], "refused": [why, …], "pushes": n}
  GET  /health                     200

Usage: push_service.py PORT
"""
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import py_vapid
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PORT = int(sys.argv[1])
ORIGIN = f"http://127.0.0.1:{PORT}"
lock = threading.Lock()
subscriptions = {}  # id -> {"key", "auth", "received", "refused", "pushes", "answers": [(status, times)]}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_vapid(header):
    """Why the Authorization header is refused, or None when it verifies."""
    if not header or not header.lower().startswith("vapid "):
        return "no VAPID Authorization header"
    # py_vapid reads `vapid t=…,k=…`; RFC 8292 allows a space after the comma.
    compact = "vapid " + ",".join(part.strip() for part in header[6:].split(","))
    try:
        if not py_vapid.Vapid02.verify(compact):
            return "VAPID signature does not verify"
    except Exception as e:  # noqa: BLE001 - any failure to verify is a refusal
        return f"VAPID signature does not verify: {e!r}"
    parts = dict(part.split("=", 1) for part in compact[6:].split(","))
    try:
        claims = json.loads(unb64url(parts["t"].split(".")[1]))
    except Exception as e:  # noqa: BLE001
        return f"VAPID claims unreadable: {e!r}"
    now = time.time()
    if claims.get("aud") != ORIGIN:
        return f"VAPID aud {claims.get('aud')!r} is not {ORIGIN!r}"
    if not isinstance(claims.get("exp"), int) or not now < claims["exp"] <= now + 24 * 3600:
        return f"VAPID exp {claims.get('exp')!r} is not within the next 24 hours"
    sub = claims.get("sub") or ""
    if not (sub.startswith("mailto:") or sub.startswith("https:")):
        return f"VAPID sub {sub!r} is not mailto: or https:"
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("push-service: " + (fmt % args) + "\n")

    def answer(self, status, body=None, headers=()):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body is not None and not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        if self.path == "/health":
            return self.answer(200, {"ok": True})
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "subscriptions":
            with lock:
                sub = subscriptions.get(parts[1])
                if sub is None:
                    return self.answer(404, {"error": "no such subscription"})
                return self.answer(
                    200, {"received": sub["received"], "refused": sub["refused"], "pushes": sub["pushes"]}
                )
        return self.answer(404, {"error": "not found"})

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        if parts == ["subscriptions"]:
            key = ec.generate_private_key(ec.SECP256R1())
            public = key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            auth = os.urandom(16)
            sid = os.urandom(12).hex()
            with lock:
                subscriptions[sid] = {"key": key, "auth": auth, "received": [], "refused": [], "pushes": 0, "answers": []}
            return self.answer(
                201,
                {"id": sid, "endpoint": f"{ORIGIN}/push/{sid}", "keys": {"p256dh": b64url(public), "auth": b64url(auth)}},
            )
        if len(parts) == 3 and parts[0] == "subscriptions" and parts[2] == "answer":
            wanted = json.loads(self.body() or b"{}")
            with lock:
                sub = subscriptions.get(parts[1])
                if sub is None:
                    return self.answer(404, {"error": "no such subscription"})
                sub["answers"].append([int(wanted["status"]), wanted.get("times")])
            return self.answer(204)
        if len(parts) == 2 and parts[0] == "push":
            body = self.body()
            with lock:
                sub = subscriptions.get(parts[1])
                if sub is None:
                    return self.answer(404, b"no such subscription")
                sub["pushes"] += 1

            def refuse(status, why):
                with lock:
                    sub["refused"].append(why)
                return self.answer(status, why.encode())

            why = check_vapid(self.headers.get("Authorization"))
            if why:
                return refuse(403, why)
            if self.headers.get("Content-Encoding") != "aes128gcm":
                return refuse(415, f"Content-Encoding {self.headers.get('Content-Encoding')!r} is not aes128gcm")
            if not self.headers.get("TTL"):
                return refuse(400, "no TTL header")
            with lock:
                if sub["answers"]:
                    status, times = sub["answers"][0]
                    if times is not None:
                        if times <= 1:
                            sub["answers"].pop(0)
                        else:
                            sub["answers"][0][1] = times - 1
                    forced = status
                else:
                    forced = None
            if forced is not None:
                headers = [("Retry-After", "1")] if forced == 429 else []
                return self.answer(forced, f"told to answer {forced}".encode(), headers)
            try:
                payload = http_ece.decrypt(body, private_key=sub["key"], auth_secret=sub["auth"], version="aes128gcm")
            except Exception as e:  # noqa: BLE001
                return refuse(400, f"payload does not decrypt: {e!r}")
            with lock:
                sub["received"].append(payload.decode("utf-8"))
            return self.answer(201, b"", [("Location", f"{ORIGIN}/messages/{os.urandom(8).hex()}")])
        return self.answer(404, {"error": "not found"})

    def do_DELETE(self):
        return self.answer(405)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
