"""A development certificate authority for mutual TLS between agents and collector.

`vigil certs init` makes a CA, a collector certificate valid for the names
and addresses given, and one client certificate per agent whose common name
is the agent id — the collector checks that name against the agent's Hello.
Keys are EC P-256 (small, fast handshakes) and written with mode 0600.
For production, a provider may use its own PKI: the collector only needs a
CA file, a certificate and a key.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
LEAF_DAYS = 825


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Vigil"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def create_ca(directory: Path, name: str = "Vigil development CA") -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write_key(directory / "ca.key", key)
    _write_cert(directory / "ca.pem", cert)
    return directory / "ca.pem", directory / "ca.key"


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    return cert, key  # type: ignore[return-value]


def issue(directory: Path, common_name: str, stem: str, *, server_names: list[str] | None = None, client: bool) -> tuple[Path, Path]:
    """A leaf certificate signed by the CA in `directory`: `<stem>.pem` and `<stem>.key`."""
    ca_cert, ca_key = _load_ca(directory)
    key = _key()
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
    )
    if server_names:
        alt: list[x509.GeneralName] = []
        for name in server_names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    path = directory / stem
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_key(path.with_suffix(".key"), key)
    _write_cert(path.with_suffix(".pem"), cert)
    return path.with_suffix(".pem"), path.with_suffix(".key")


def issue_collector(directory: Path, names: list[str]) -> tuple[Path, Path]:
    return issue(directory, names[0], "collector", server_names=names, client=False)


def issue_agent(directory: Path, agent_id: str) -> tuple[Path, Path]:
    return issue(directory, agent_id, f"agents/{agent_id}", client=True)
