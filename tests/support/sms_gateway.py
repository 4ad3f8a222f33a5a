"""A Twilio-compatible text message gateway for the test suite, independent
of Matterline's code: webhooks are signed with the `twilio` package's own
RequestValidator.

  POST /2010-04-01/Accounts/{sid}/Messages.json
        the provider's API: basic auth must be the account SID and auth token
        below; form fields To (E.164), exactly one of From or
        MessagingServiceSid, Body (non-empty) and StatusCallback (an http URL)
        are checked (20003 / 21604 / 21211 errors otherwise); the message is
        recorded and answered 201 {"sid": "SM…", "status": "queued", …},
        unless an answer was set up for its To number
  POST /answers        {"to": "+1…", "answers": [429, 21610]}: the next sends
                       to that number get these answers, one each (429: Too
                       Many Requests; 500; or a Twilio error code, answered 400
                       with {"code", "message"})
  GET  /messages?to=+1…  {"messages": [{"sid", "to", "from",
                       "messaging_service_sid", "body", "status_callback"}, …],
                       "refused": [why, …], "attempts": n}
  POST /inbound        {"url", "from", "to", "body", "sign": "right"|"wrong"|"none"}:
                       POSTs an inbound message webhook to url, signed (or not),
                       answers {"status": n, "body": "…"} (the portal's TwiML)
  POST /status         {"url", "sid", "status", "error_code", "sign"}: POSTs a
                       status callback to url, answers {"status": n, "body": "…"}
  GET  /health         200

Usage: sms_gateway.py PORT
"""
import base64
import json
import secrets
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

PORT = int(sys.argv[1])
ACCOUNT_SID = "ACtest0123456789abcdef0123456789ab"
AUTH_TOKEN = "test-sms-auth-token-0123456789"
lock = threading.Lock()
sent = {}  # to -> {"messages": [...], "refused": [...], "attempts": n}
answers = {}  # to -> [answer, ...]

ERRORS = {
    21211: "Invalid 'To' Phone Number",
    21610: "Attempt to send to unsubscribed recipient",
    21604: "A 'Body' or 'MediaUrl' parameter is required.",
}


def record(to):
    return sent.setdefault(to, {"messages": [], "refused": [], "attempts": 0})


def post_form(url, params, sign):
    """POSTs params to url as a provider webhook; returns (status, body)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign == "right":
        headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    elif sign == "wrong":
        headers["X-Twilio-Signature"] = RequestValidator("not-the-token").compute_signature(url, params)
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, f"unreachable: {e!r}"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        sys.stderr.write("sms-gateway: " + (format % args) + "\n")

    def reply(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/health":
            return self.reply(200, {"ok": True})
        if url.path == "/messages":
            to = urllib.parse.parse_qs(url.query).get("to", [""])[0]
            with lock:
                return self.reply(200, record(to))
        self.reply(404, {"code": 20404, "message": "not found"})

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return self.send_message(self.body())
        if url.path.startswith("/2010-04-01/Accounts/"):
            return self.reply(401, {"code": 20003, "message": "Authenticate"})
        if url.path == "/answers":
            ask = json.loads(self.body())
            with lock:
                answers.setdefault(ask["to"], []).extend(ask["answers"])
            return self.reply(204)
        if url.path == "/inbound":
            ask = json.loads(self.body())
            params = {
                "MessageSid": "SM" + secrets.token_hex(16),
                "AccountSid": ACCOUNT_SID,
                "From": ask["from"],
                "To": ask.get("to", "+12015550100"),
                "Body": ask["body"],
                "NumMedia": "0",
            }
            status, text = post_form(ask["url"], params, ask.get("sign", "right"))
            return self.reply(200, {"status": status, "body": text})
        if url.path == "/status":
            ask = json.loads(self.body())
            params = {
                "MessageSid": ask["sid"],
                "AccountSid": ACCOUNT_SID,
                "MessageStatus": ask["status"],
                "To": ask.get("to", ""),
            }
            if ask.get("error_code"):
                params["ErrorCode"] = str(ask["error_code"])
            status, text = post_form(ask["url"], params, ask.get("sign", "right"))
            return self.reply(200, {"status": status, "body": text})
        self.reply(404, {"code": 20404, "message": "not found"})

    def send_message(self, raw):
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True)
        field = lambda name: form.get(name, [None])[0]  # noqa: E731
        to = field("To") or ""
        with lock:
            entry = record(to)
            entry["attempts"] += 1
            if self.headers.get("Authorization") != expected:
                entry["refused"].append("basic auth is not the account SID and auth token")
                return self.reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
            why = None
            if not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) <= 16):
                why = (21211, "To is not E.164")
            elif (field("From") is None) == (field("MessagingServiceSid") is None):
                why = (21604, "exactly one of From and MessagingServiceSid")
            elif not field("Body"):
                why = (21604, "Body is empty")
            elif not (field("StatusCallback") or "").startswith("http"):
                why = (21609, "StatusCallback is not a URL")
            if why:
                entry["refused"].append(why[1])
                return self.reply(400, {"code": why[0], "message": why[1], "status": 400})
            queued = answers.get(to) or []
            answer = queued.pop(0) if queued else None
            if answer == 429:
                entry["refused"].append("answered 429")
                return self.reply(429, {"code": 20429, "message": "Too Many Requests", "status": 429})
            if answer == 500:
                entry["refused"].append("answered 500")
                return self.reply(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
            if answer is not None:
                entry["refused"].append(f"answered {answer}")
                message = ERRORS.get(answer, "Error")
                return self.reply(400, {"code": answer, "message": message, "status": 400})
            message = {
                "sid": "SM" + secrets.token_hex(16),
                "to": to,
                "from": field("From"),
                "messaging_service_sid": field("MessagingServiceSid"),
                "body": field("Body"),
                "status_callback": field("StatusCallback"),
            }
            entry["messages"].append(message)
        self.reply(201, {**message, "status": "queued", "account_sid": ACCOUNT_SID, "num_segments": "1"})


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
