"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the mail tests.

STARTTLS required and AUTH required, with a self-signed certificate made
here with `cryptography` (the client trusts it as its CA); or implicit TLS
(`implicit_tls=True`, like port 465); or plain. Recipients in `refuse` get
`550 5.1.1` at RCPT, those in `defer` get `451 4.2.0` that many times, and
`stop()` / `start()` on the same port make an outage.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import logging
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "vigil", "Mail-pa55-w0rd!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """cert.pem and key.pem for 127.0.0.1 / localhost; the cert is its own CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Controller(Controller):
    def factory(self):  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            # "Requiring AUTH while not requiring TLS": aiosmtpd does not count implicit TLS as TLS.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return super().factory()


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        body = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        return body.get_content() if body is not None else ""

    def attachments(self) -> list[tuple[str, str, bytes]]:
        return [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True)) for a in self.message.iter_attachments()]


class SmtpPeer:
    def __init__(self, folder: Path, implicit_tls: bool = False, auth: bool = True, tls: bool = True) -> None:
        self.cert, self.key = self_signed(folder)
        self.port = free_port()
        self.implicit_tls, self.auth, self.tls = implicit_tls, auth, tls
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.defer: dict[str, int] = {}
        self.logins: list[tuple[str, bool]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # ------------------------------------------------------------ aiosmtpd hooks

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def] # noqa: N802
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if self.defer.get(address, 0) > 0:
            self.defer[address] -= 1
            return f"451 4.2.0 <{address}>: mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def] # noqa: N802
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 2.0.0 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        self.logins.append((auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False)   # not handled: aiosmtpd answers 535 itself

    # ------------------------------------------------------------ life

    def start(self) -> SmtpPeer:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        options: dict[str, object] = {}
        if self.auth:
            options.update(authenticator=self._authenticate, auth_required=True)
        if self.implicit_tls:
            # aiosmtpd only counts STARTTLS as TLS for AUTH; the whole session is TLS here.
            options.update(ssl_context=context, auth_require_tls=False)
        elif self.tls:
            options.update(tls_context=context, require_starttls=True)
        else:
            options.update(auth_require_tls=False)
        logging.getLogger("mail.log").setLevel(logging.WARNING + 5)   # aiosmtpd logs every SMTP line
        self._controller = _Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def smtp_config(self, **changes: object):  # type: ignore[no-untyped-def]
        """A collector `SmtpConfig` for this server (fast retries for tests)."""
        from collector.config import SmtpConfig

        values: dict[str, object] = {
            "host": "127.0.0.1", "port": self.port,
            "security": "ssl" if self.implicit_tls else ("starttls" if self.tls else "none"),
            "username": USER if self.auth else "", "password": PASSWORD if self.auth else "",
            "sender": "Vigil 值班 <noc@vigil.example>", "timeout": 5.0, "ca": self.cert,
            "retry_initial": 1.0, "retry_max": 8.0, "give_up_after": 3600.0, "poll_interval": 0.1,
        }
        values.update(changes)
        return SmtpConfig.model_validate(values)
