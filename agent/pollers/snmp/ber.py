"""A minimal, strict BER codec for SNMP v1/v2c messages: the client's fast path for community polling.

Why it exists: pysnmp decodes a reply through pyasn1's generic object model,
about 55 µs per varbind. Walking 16 IF-MIB columns of a 48-port switch, that
was 81 % of the client's CPU (another 12 % built and encoded requests), and
the client managed 7–10 k varbinds per CPU-second where the agent needs
≥ 11.5 k (Debian's prometheus-snmp-exporter does ≈ 45 k). A v1/v2c message
has no cryptography and one fixed shape, so a codec that knows only that
shape will do: this one decodes a varbind in about 1 µs and encodes a
16-OID GetBulkRequest in about 20 µs, and the client walks about 100 k
varbinds per CPU-second. pysnmp stays for v3.

What it speaks, and nothing more:

* encodes GetRequest, GetNextRequest and GetBulkRequest messages whose
  varbinds all carry NULL;
* decodes Response messages (v1 or v2c) into (request-id, error-status,
  error-index, varbinds), the values converted as `types.py` says;
* single-octet tags; primitive encodings of the SNMP value types only;
  definite lengths, short or long form (≤ 4 length octets; leading zero
  octets are allowed, as BER allows and net-snmp sends);
* INTEGER is two's complement and must fit Integer32. The application
  integers are read as unsigned, as net-snmp reads them: a correct encoder
  sends Counter32 4294967295 as `00 ff ff ff ff`, some agents drop the zero
  octet, and both mean the same. They must fit 32 bits (Counter64: 64) in
  at most 5 (9) content octets;
* OBJECT IDENTIFIERs of 2–128 sub-identifiers, each below 2**32, in minimal
  base-128; IpAddress of exactly 4 octets; NULL and the v2c exceptions
  (noSuchObject, noSuchInstance, endOfMibView) of no octets.

Anything else — truncation, a length past its container's end, trailing
octets, a wrong tag, an over-long integer, a bad sub-identifier — raises
`BerError` (a `ValueError`) naming the byte offset and the reason, and
nothing else. Every loop moves forward through the input's octets, so none
outlives the datagram; nothing recurses.

Speed comes from reading `bytes` by integer index, decoding the common short
lengths inline, and letting C do the per-octet work: an OID whose octets are
all below 0x80 (nearly every OID a table walk sees) becomes a tuple in one
call after a `bytes.isascii()` check.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.pollers.snmp.types import OID, Tag, Value, VarBind

GET_REQUEST, GETNEXT_REQUEST, RESPONSE, GETBULK_REQUEST = 0xA0, 0xA1, 0xA2, 0xA5
"""PDU tags (context-specific, constructed)."""

VERSIONS = {"1": 0, "2c": 1}
"""The message's version field for each community-based SNMP version."""

_SEQUENCE, _INTEGER, _OCTET_STRING, _NULL, _OID = 0x30, 0x02, 0x04, 0x05, 0x06
_MAX_SUBIDS, _MAX_SUBID = 128, 0xFFFF_FFFF
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1

_TAG_OF: tuple[Tag | None, ...] = tuple(map({int(tag): tag for tag in Tag}.get, range(256)))
"""Octet → the SNMP value type it tags, or None: one index instead of an enum call per varbind."""

_UNSIGNED32 = frozenset({Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS})
_NAMES = {Tag.COUNTER32: "Counter32", Tag.GAUGE32: "Gauge32", Tag.TIMETICKS: "TimeTicks", Tag.NULL: "NULL",
          Tag.NO_SUCH_OBJECT: "noSuchObject", Tag.NO_SUCH_INSTANCE: "noSuchInstance", Tag.END_OF_MIB_VIEW: "endOfMibView"}
_EMPTY = frozenset({Tag.NULL, Tag.NO_SUCH_OBJECT, Tag.NO_SUCH_INSTANCE, Tag.END_OF_MIB_VIEW})

_FIRST_ARCS: tuple[OID, ...] = tuple(
    (0, octet) if octet < 40 else (1, octet - 40) if octet < 80 else (2, octet - 80) for octet in range(128))
"""The first two arcs of an OID whose first sub-identifier is one octet."""


class BerError(ValueError):
    """The octets are not an SNMP v1/v2c message this codec accepts; str() says where and why."""


# ---------------------------------------------------------------- encoding

def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes((size,))
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def _integer(value: int) -> bytes:
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise BerError(f"{value} does not fit an Integer32")
    size = (value if value >= 0 else ~value).bit_length() // 8 + 1
    return _tlv(_INTEGER, value.to_bytes(size, "big", signed=True))


def _base128(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | value & 0x7F)
        value >>= 7
    return bytes(reversed(out))


def encode_oid(oid: OID) -> bytes:
    """The content octets of `oid` (without tag and length)."""
    if not 2 <= len(oid) <= _MAX_SUBIDS:
        raise BerError(f"an OID has 2 to {_MAX_SUBIDS} sub-identifiers, not {len(oid)}")
    first, second, rest = oid[0], oid[1], oid[2:]
    if not (0 <= first <= 2 and 0 <= second and (first == 2 or second < 40)):
        raise BerError(f"{first}.{second} cannot begin an OID")
    head = 40 * first + second
    if head < 0x80 and (not rest or (min(rest) >= 0 and max(rest) < 0x80)):
        return bytes((head, *rest))
    if head > _MAX_SUBID or (rest and not (min(rest) >= 0 and max(rest) <= _MAX_SUBID)):
        raise BerError(f"a sub-identifier of {'.'.join(map(str, oid))} is outside 0 … 2**32-1")
    return b"".join(map(_base128, (head, *rest)))


def _null_varbind(oid: OID) -> bytes:
    name = encode_oid(oid)
    if len(name) < 0x7C:      # both lengths short: the common case, built in one go
        return bytes((_SEQUENCE, len(name) + 4, _OID, len(name))) + name + b"\x05\x00"
    return _tlv(_SEQUENCE, _tlv(_OID, name) + b"\x05\x00")


class Requests:
    """Encodes one device's requests; its version and community are encoded once."""

    def __init__(self, version: int, community: bytes) -> None:
        self._head = _integer(version) + _tlv(_OCTET_STRING, community)

    def encode(self, pdu: int, request_id: int, oids: Sequence[OID], non_repeaters: int = 0,
               max_repetitions: int = 0) -> bytes:
        """A GetRequest/GetNextRequest (`non_repeaters`, `max_repetitions` 0) or GetBulkRequest message."""
        if pdu not in (GET_REQUEST, GETNEXT_REQUEST, GETBULK_REQUEST):
            raise BerError(f"PDU tag 0x{pdu:02x} is not a request this codec sends")
        if pdu != GETBULK_REQUEST and (non_repeaters or max_repetitions):
            raise BerError("only GetBulkRequest has non-repeaters and max-repetitions")
        varbinds = b"".join(map(_null_varbind, oids))
        pdu_body = _integer(request_id) + _integer(non_repeaters) + _integer(max_repetitions) + _tlv(_SEQUENCE, varbinds)
        return _tlv(_SEQUENCE, self._head + _tlv(pdu, pdu_body))


# ---------------------------------------------------------------- decoding

def decode_response(data: bytes | bytearray | memoryview) -> tuple[int, int, int, list[VarBind]]:
    """A Response message → (request-id, error-status, error-index, varbinds); raises `BerError` only."""
    octets = data if type(data) is bytes else bytes(data)
    try:
        return _response(octets)
    except IndexError:      # a read past the last octet: every other bound is checked where it is read
        raise BerError(f"truncated: the message ends at byte {len(octets)} inside an element") from None


def _content(data: bytes, at: int) -> tuple[int, int]:
    """[start, stop) of the content whose length octets begin at `at`; `stop` is checked by the caller."""
    first = data[at]
    if first < 0x80:
        return at + 1, at + 1 + first
    count = first & 0x7F
    if count == 0:
        raise BerError(f"byte {at}: an indefinite length (SNMP allows definite lengths only)")
    if count > 4:
        raise BerError(f"byte {at}: a length of {count} octets")
    start = at + 1 + count
    if start > len(data):
        raise BerError(f"byte {at}: truncated length")
    return start, start + int.from_bytes(data[at + 1:start], "big")


def _element(data: bytes, at: int, end: int, tag: int, what: str) -> tuple[int, int]:
    """[start, stop) of the content of the element at `at`, which must carry `tag` and end by `end`."""
    if at >= end:
        raise BerError(f"byte {at}: {what} is missing")
    if data[at] != tag:
        raise BerError(f"byte {at}: {what} has tag 0x{data[at]:02x}, not 0x{tag:02x}")
    start, stop = _content(data, at + 1)
    if stop > end:
        raise BerError(f"byte {at}: {what} of {stop - start} octets overruns its container, which ends at byte {end}")
    return start, stop


def _integer32(data: bytes, at: int, end: int, what: str) -> tuple[int, int]:
    """(value, next offset) of the INTEGER at `at`."""
    start, stop = _element(data, at, end, _INTEGER, what)
    if not 0 < stop - start <= 5:
        raise BerError(f"byte {at}: {what} of {stop - start} octets")
    value = int.from_bytes(data[start:stop], "big", signed=True)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise BerError(f"byte {at}: {what} {value} does not fit an Integer32")
    return value, stop


def _response(data: bytes) -> tuple[int, int, int, list[VarBind]]:
    end = len(data)
    start, stop = _element(data, 0, end, _SEQUENCE, "the message")
    if stop != end:
        raise BerError(f"byte {stop}: {end - stop} octets after the message")
    version, at = _integer32(data, start, end, "the version")
    if version not in (0, 1):
        raise BerError(f"byte {start}: version {version} is not SNMPv1 or v2c")
    _, at = _element(data, at, end, _OCTET_STRING, "the community")
    start, stop = _element(data, at, end, RESPONSE, "the Response PDU")
    if stop != end:
        raise BerError(f"byte {stop}: {end - stop} octets after the PDU")
    request_id, at = _integer32(data, start, end, "the request-id")
    status, at = _integer32(data, at, end, "the error-status")
    index, at = _integer32(data, at, end, "the error-index")
    start, stop = _element(data, at, end, _SEQUENCE, "the varbind list")
    if stop != end:
        raise BerError(f"byte {stop}: {end - stop} octets after the varbind list")
    return request_id, status, index, _varbinds(data, start, stop)


def _varbinds(data: bytes, at: int, end: int) -> list[VarBind]:
    """The varbinds in data[at:end]. The hot loop: short lengths and one-octet sub-identifiers inline."""
    varbinds: list[VarBind] = []
    append, tag_of, first_arcs, from_bytes = varbinds.append, _TAG_OF, _FIRST_ARCS, int.from_bytes
    while at < end:
        if data[at] != _SEQUENCE:
            raise BerError(f"byte {at}: a varbind has tag 0x{data[at]:02x}, not SEQUENCE (0x30)")
        size = data[at + 1]
        start, stop = (at + 2, at + 2 + size) if size < 0x80 else _content(data, at + 1)
        if stop > end:
            raise BerError(f"byte {at}: a varbind of {stop - start} octets runs past the varbind list")
        if data[start] != _OID:
            raise BerError(f"byte {start}: a varbind's name has tag 0x{data[start]:02x}, not OBJECT IDENTIFIER (0x06)")
        size = data[start + 1]
        first, after = (start + 2, start + 2 + size) if size < 0x80 else _content(data, start + 1)
        if after > stop:
            raise BerError(f"byte {start}: a name of {after - first} octets runs past its varbind")
        raw = data[first:after]
        if 0 < after - first < _MAX_SUBIDS and raw.isascii():
            name = first_arcs[raw[0]] + tuple(raw[1:])
        else:
            name = _oid(raw, first)
        if after >= stop:
            raise BerError(f"byte {at}: a varbind without a value")
        kind = data[after]
        size = data[after + 1]
        first, last = (after + 2, after + 2 + size) if size < 0x80 else _content(data, after + 1)
        if last != stop:
            raise BerError(f"byte {after}: a value of {last - first} octets does not end where its varbind does (byte {stop})")
        tag = tag_of[kind]
        value: Value
        if tag is Tag.OCTET_STRING:
            value = data[first:last]
        elif tag in _UNSIGNED32:
            if not 0 < last - first <= 5:
                raise BerError(f"byte {after}: a {_NAMES[tag]} of {last - first} octets")
            value = from_bytes(data[first:last], "big")
            if value > 0xFFFF_FFFF:
                raise BerError(f"byte {after}: {_NAMES[tag]} {value} exceeds 2**32-1")
        elif tag is Tag.COUNTER64:
            if not 0 < last - first <= 9:
                raise BerError(f"byte {after}: a Counter64 of {last - first} octets")
            value = from_bytes(data[first:last], "big")
            if value > 0xFFFF_FFFF_FFFF_FFFF:
                raise BerError(f"byte {after}: Counter64 {value} exceeds 2**64-1")
        elif tag is Tag.INTEGER:
            if not 0 < last - first <= 5:
                raise BerError(f"byte {after}: an INTEGER of {last - first} octets")
            value = from_bytes(data[first:last], "big", signed=True)
            if not _INT32_MIN <= value <= _INT32_MAX:
                raise BerError(f"byte {after}: INTEGER {value} does not fit an Integer32")
        elif tag is Tag.OBJECT_IDENTIFIER:
            raw = data[first:last]
            value = first_arcs[raw[0]] + tuple(raw[1:]) if 0 < last - first < _MAX_SUBIDS and raw.isascii() else _oid(raw, first)
        elif tag is Tag.IP_ADDRESS:
            if last - first != 4:
                raise BerError(f"byte {after}: an IpAddress of {last - first} octets")
            value = data[first:last]
        elif tag is Tag.OPAQUE:
            value = data[first:last]
        elif tag in _EMPTY:
            if last != first:
                raise BerError(f"byte {after}: {_NAMES[tag]} with {last - first} content octets")
            value = None
        else:
            raise BerError(f"byte {after}: tag 0x{kind:02x} is not an SNMP value type")
        append((name, tag, value))
        at = stop
    return varbinds


def _oid(raw: bytes, at: int) -> OID:
    """The OID whose content octets are `raw` (which began at byte `at`), checked sub-identifier by sub-identifier."""
    if not raw:
        raise BerError(f"byte {at}: an OBJECT IDENTIFIER of no octets")
    if raw[-1] & 0x80:
        raise BerError(f"byte {at}: the last sub-identifier of an OBJECT IDENTIFIER is cut short")
    subids: list[int] = []
    value, fresh = 0, True
    for offset, octet in enumerate(raw):
        if fresh and octet == 0x80:
            raise BerError(f"byte {at + offset}: a sub-identifier padded with a leading 0x80")
        value = value << 7 | octet & 0x7F
        if value > _MAX_SUBID:
            raise BerError(f"byte {at + offset}: a sub-identifier exceeds 2**32-1")
        fresh = not octet & 0x80
        if fresh:
            subids.append(value)
            value = 0
    if len(subids) >= _MAX_SUBIDS:
        raise BerError(f"byte {at}: an OBJECT IDENTIFIER of more than {_MAX_SUBIDS} sub-identifiers")
    head = subids[0]
    return (*(divmod(head, 40) if head < 80 else (2, head - 80)), *subids[1:])
