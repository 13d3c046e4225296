"""The values that pass between the SNMP client, the profiles and the rate keeper.

Plain tuples, typed by BER tag, because a poll of a 48-port switch yields
thousands of them and the agent's CPU budget is counted per varbind. The tag
is kept (not just the Python value) because it carries meaning a profile
needs: a Counter32 wraps at 2**32, a Counter64 at 2**64, TimeTicks are
hundredths of a second, an OCTET STRING may be a name or a MAC address.
"""

from __future__ import annotations

from enum import IntEnum

OID = tuple[int, ...]
"""An object identifier as integers: (1, 3, 6, 1, 2, 1, 1, 3, 0)."""

Value = int | bytes | OID | None
"""INTEGER/Counter/Gauge/TimeTicks → int; OCTET STRING/IpAddress/Opaque → bytes; OID → OID; exceptions → None."""


class Tag(IntEnum):
    """BER tags of the SNMP value types (RFC 3416), including the v2c exception values."""

    INTEGER = 0x02
    OCTET_STRING = 0x04
    NULL = 0x05
    OBJECT_IDENTIFIER = 0x06
    IP_ADDRESS = 0x40
    COUNTER32 = 0x41
    GAUGE32 = 0x42
    TIMETICKS = 0x43
    OPAQUE = 0x44
    COUNTER64 = 0x46
    NO_SUCH_OBJECT = 0x80
    NO_SUCH_INSTANCE = 0x81
    END_OF_MIB_VIEW = 0x82


VarBind = tuple[OID, int, Value]
"""(oid, tag, value): one answer from the device; `tag` is a `Tag` value."""

Column = dict[OID, tuple[int, Value]]
"""One walked table column: row index (the OID suffix after the column) → (tag, value)."""

Table = dict[OID, Column]
"""Walked columns by column OID."""

EXCEPTIONS = frozenset({Tag.NULL, Tag.NO_SUCH_OBJECT, Tag.NO_SUCH_INSTANCE, Tag.END_OF_MIB_VIEW})


def parse_oid(text: str) -> OID:
    """'1.3.6.1.2.1.1.3.0' (a leading dot is allowed) → (1, 3, 6, 1, 2, 1, 1, 3, 0)."""
    parts = text.strip().lstrip(".").split(".")
    if len(parts) < 2 or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a numeric OID (1.3.6.…)")
    return tuple(int(p) for p in parts)


def format_oid(oid: OID) -> str:
    return ".".join(map(str, oid))


class SnmpError(Exception):
    """A device's poll failed; `kind` goes into `vigil_poll_error_info{kind=…}`, str() into the log."""

    kind = "snmp_error"


class SnmpTimeout(SnmpError):
    kind = "timeout"


class SnmpAuthError(SnmpError):
    """Wrong community answers nothing (a timeout); wrong v3 user, key or protocol answers a report."""

    kind = "auth"


class SnmpReplyError(SnmpError):
    """The device answered something malformed or hostile: wrong types, truncated PDU, a walk that loops."""

    kind = "bad_reply"
