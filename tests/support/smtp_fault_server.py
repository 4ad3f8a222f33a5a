"""An SMTP server that fails on purpose, for the notifier's fault tests.

Recipients whose local part starts with "reject" get 550 (permanent), with
"tempfail" get 451 (temporary); everyone else is accepted, and one line
"recipient<TAB>Message-ID" per accepted recipient is appended to LOG, so large
tests can count deliveries without an HTTP API. With CERT and KEY it requires
STARTTLS before MAIL FROM (for testing the client's TLS path); with USER and
PASSWORD as well it speaks TLS from the first byte (smtps) and requires AUTH
with those credentials.
Usage: smtp_fault_server.py PORT LOG [CERT KEY [USER PASSWORD]]
"""
import asyncio
import socket
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class FaultyHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if local.startswith("tempfail"):
            return "451 4.3.0 temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def __init__(self, log_path: str):
        self.log_path = log_path

    async def handle_DATA(self, server, session, envelope):
        message_id = ""
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("message-id:"):
                message_id = line.split(":", 1)[1].strip()
                break
            if not line:
                break
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write("".join(f"{rcpt}\t{message_id}\n" for rcpt in envelope.rcpt_tos))
        return "250 2.0.0 accepted"


def authenticator_for(user: str, password: str):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


async def main(port: int, log_path: str, cert: str = "", key: str = "", user: str = "", password: str = "") -> None:
    options = {}
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options = {"tls_context": context, "require_starttls": True}
    if user:
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        # Implicit TLS: the whole session is encrypted, so AUTH needs no STARTTLS.
        options = {
            "ssl_context": context,
            "authenticator": authenticator_for(user, password),
            "auth_required": True,
            "auth_require_tls": False,
        }
    controller = Controller(FaultyHandler(log_path), hostname="127.0.0.1", port=port, **options)
    if user:
        # aiosmtpd's start-up self-check wraps its probe in the server's own TLS
        # context, which a client cannot use; probe as a TLS client instead.
        def probe() -> None:
            client = ssl.create_default_context()
            client.check_hostname = False
            client.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", port), 5) as raw:
                with client.wrap_socket(raw) as tls:
                    tls.recv(1024)

        controller._trigger_server = probe
    controller.start()
    print(f"fault SMTP server on 127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), *sys.argv[2:]))
