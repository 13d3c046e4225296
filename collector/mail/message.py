"""A stored message turned into MIME: text and HTML alternatives, attachments, UTF-8 everywhere.

`email.message.EmailMessage` with the SMTP policy does the encoding: a
Chinese subject becomes an RFC 2047 encoded word, a Chinese attachment name
an RFC 2231 parameter, bodies are base64 or quoted-printable as their
content needs, and lines end in CRLF. Nothing here is hand-encoded.
"""

from __future__ import annotations

import email.policy
import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str          # any Unicode, e.g. "巡检报告-2026-11.pdf"
    content_type: str      # "application/pdf", "text/csv; charset=utf-8" is not needed: "text/csv" is enough
    data: bytes

    def __post_init__(self) -> None:
        if "/" not in self.content_type:
            raise ValueError(f"attachment {self.filename!r}: content type {self.content_type!r} is not type/subtype")


def build(sender: str, to: Sequence[str], subject: str, text: str, html: str,
          attachments: Sequence[Attachment] = (), message_id: str = "", date_ms: int | None = None) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(None if date_ms is None else date_ms / 1000, localtime=False, usegmt=True)
    message["Message-ID"] = message_id or email.utils.make_msgid(domain=domain_of(sender))
    message["Auto-Submitted"] = "auto-generated"   # RFC 3834: no vacation replies to a machine
    message.set_content(text or " ", subtype="plain", charset="utf-8")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype.split(";")[0].strip(),
                               filename=attachment.filename)
    return message


def address_of(sender: str) -> str:
    """The bare address of `"Vigil NOC <noc@example.com>"`: what MAIL FROM carries."""
    return email.utils.parseaddr(sender)[1]


def domain_of(sender: str) -> str:
    return address_of(sender).rpartition("@")[2] or "vigil.invalid"
