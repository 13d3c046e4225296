"""agent/pollers/snmp/ber.py against pysnmp/pyasn1's own codec, and against hostile octets.

Requests we encode must decode with pysnmp's v1/v2c message types; responses
pysnmp encodes (every value type, short and long lengths) must decode with
ours to the values `types.py` promises. Anything malformed must raise
`BerError` and nothing else.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v1, v2c

from agent.pollers.snmp import ber
from agent.pollers.snmp.types import OID, Tag, Value, VarBind

IF_DESCR: OID = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
BIG_OID: OID = (1, 3, 6, 1, 4, 1, 2**28 + 1, 2**31, 2**32 - 1, 0, 127, 128, 16383, 16384)
WIDE_OIDS: list[OID] = [
    (0, 0), (1, 39), (2, 47), (2, 48), (2, 999, 3), (2, 2**32 - 81), BIG_OID,
    (1, 3) + tuple(range(126)),                          # 128 sub-identifiers, the most SNMP allows
]


def pysnmp_response(varbinds: Sequence[tuple[Any, Any]], *, api: Any = v2c, request_id: int = 7,
                    status: int = 0, index: int = 0, community: bytes = b"public") -> bytes:
    """A Response message as pysnmp (pyasn1) encodes it."""
    pdu = api.GetResponsePDU()
    api.apiPDU.set_defaults(pdu)
    api.apiPDU.set_request_id(pdu, request_id)
    api.apiPDU.set_error_status(pdu, status)
    api.apiPDU.set_error_index(pdu, index)
    api.apiPDU.set_varbinds(pdu, varbinds)
    message = api.Message()
    api.apiMessage.set_defaults(message)
    api.apiMessage.set_community(message, community)
    api.apiMessage.set_pdu(message, pdu)
    return encoder.encode(message)


# Every value type: (pysnmp value, what ours must decode it to).
VALUES: list[tuple[Any, int, Value]] = [
    (v2c.Integer32(0), Tag.INTEGER, 0),
    (v2c.Integer32(-1), Tag.INTEGER, -1),
    (v2c.Integer32(-128), Tag.INTEGER, -128),
    (v2c.Integer32(-129), Tag.INTEGER, -129),
    (v2c.Integer32(-(2**31)), Tag.INTEGER, -(2**31)),
    (v2c.Integer32(2**31 - 1), Tag.INTEGER, 2**31 - 1),
    (v2c.OctetString(b""), Tag.OCTET_STRING, b""),
    (v2c.OctetString(b"\x00\xff binary \x80"), Tag.OCTET_STRING, b"\x00\xff binary \x80"),
    (v2c.OctetString("机房 A".encode()), Tag.OCTET_STRING, "机房 A".encode()),
    (v2c.OctetString(b"x" * 300), Tag.OCTET_STRING, b"x" * 300),          # long-form lengths all the way up
    (v2c.Null(""), Tag.NULL, None),
    (v2c.ObjectIdentifier((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)), Tag.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
    (v2c.ObjectIdentifier(BIG_OID), Tag.OBJECT_IDENTIFIER, BIG_OID),
    (v2c.ObjectIdentifier((0, 0)), Tag.OBJECT_IDENTIFIER, (0, 0)),
    (v2c.IpAddress("192.0.2.254"), Tag.IP_ADDRESS, bytes([192, 0, 2, 254])),
    (v2c.Counter32(0), Tag.COUNTER32, 0),
    (v2c.Counter32(2**31), Tag.COUNTER32, 2**31),
    (v2c.Counter32(2**32 - 1), Tag.COUNTER32, 2**32 - 1),
    (v2c.Gauge32(2**32 - 1), Tag.GAUGE32, 2**32 - 1),
    (v2c.TimeTicks(2**32 - 1), Tag.TIMETICKS, 2**32 - 1),
    (v2c.Opaque(b"\x9f\x78\x04\x3f\x80\x00\x00"), Tag.OPAQUE, b"\x9f\x78\x04\x3f\x80\x00\x00"),
    (v2c.Counter64(0), Tag.COUNTER64, 0),
    (v2c.Counter64(2**63), Tag.COUNTER64, 2**63),
    (v2c.Counter64(2**64 - 1), Tag.COUNTER64, 2**64 - 1),
    (v2c.NoSuchObject(""), Tag.NO_SUCH_OBJECT, None),
    (v2c.NoSuchInstance(""), Tag.NO_SUCH_INSTANCE, None),
    (v2c.EndOfMibView(""), Tag.END_OF_MIB_VIEW, None),
]


def _every_value() -> tuple[bytes, list[VarBind]]:
    names = [IF_DESCR + (row,) for row in range(1, len(VALUES) + 1)]
    message = pysnmp_response([(name, value) for name, (value, _, _) in zip(names, VALUES)], request_id=123456)
    return message, [(name, tag, expected) for name, (_, tag, expected) in zip(names, VALUES)]


EVERY_VALUE, EVERY_VALUE_DECODED = _every_value()


# ---------------------------------------------------------------- pysnmp encodes, we decode

def test_every_value_type_decodes_as_types_py_says() -> None:
    request_id, status, index, varbinds = ber.decode_response(EVERY_VALUE)
    assert (request_id, status, index) == (123456, 0, 0)
    assert varbinds == EVERY_VALUE_DECODED
    assert all(type(tag) is Tag for _, tag, _ in varbinds)
    assert EVERY_VALUE[1] == 0x82, "the message needs a two-octet length"


@pytest.mark.parametrize(("value", "tag", "expected"), VALUES, ids=[f"{Tag(tag).name}-{n}" for n, (_, tag, _) in enumerate(VALUES)])
def test_one_value_alone(value: Any, tag: int, expected: Value) -> None:
    _, _, _, varbinds = ber.decode_response(pysnmp_response([(IF_DESCR + (1,), value)]))
    assert varbinds == [(IF_DESCR + (1,), tag, expected)]


@pytest.mark.parametrize("name", WIDE_OIDS, ids=lambda oid: f"{len(oid)}-arcs-{'.'.join(map(str, oid[:3]))}")
def test_names_of_every_shape(name: OID) -> None:
    _, _, _, varbinds = ber.decode_response(pysnmp_response([(name, v2c.Integer32(1)), (name, v2c.ObjectIdentifier(name))]))
    assert varbinds == [(name, Tag.INTEGER, 1), (name, Tag.OBJECT_IDENTIFIER, name)]


def test_error_status_index_and_request_ids() -> None:
    for request_id in (0, 1, 2**31 - 1, -(2**31)):
        message = pysnmp_response([(IF_DESCR, v2c.null)], request_id=request_id, status=5, index=1)
        assert ber.decode_response(message) == (request_id, 5, 1, [(IF_DESCR, Tag.NULL, None)])


def test_a_v1_response() -> None:
    message = pysnmp_response([
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), v1.TimeTicks(4242)), (IF_DESCR + (1,), v1.OctetString(b"eth0")),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), v1.Counter(2**32 - 1)), ((1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 1), v1.Gauge(10**9)),
        ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 1), v1.IpAddress("10.0.0.1")), ((1, 3, 6, 1, 2, 1, 2, 1, 0), v1.Integer(-5)),
    ], api=v1, status=0)
    _, _, _, varbinds = ber.decode_response(message)
    assert [(tag, value) for _, tag, value in varbinds] == [
        (Tag.TIMETICKS, 4242), (Tag.OCTET_STRING, b"eth0"), (Tag.COUNTER32, 2**32 - 1), (Tag.GAUGE32, 10**9),
        (Tag.IP_ADDRESS, bytes([10, 0, 0, 1])), (Tag.INTEGER, -5)]


def test_an_empty_varbind_list() -> None:
    assert ber.decode_response(pysnmp_response([])) == (7, 0, 0, [])


def test_any_buffer_type() -> None:
    for buffer in (bytearray(EVERY_VALUE), memoryview(EVERY_VALUE)):
        assert ber.decode_response(buffer)[3] == EVERY_VALUE_DECODED


# ---------------------------------------------------------------- lengths pyasn1 does not write

def tlv(tag: int, content: bytes, length_octets: int = 0) -> bytes:
    """A TLV whose length takes `length_octets` octets in long form, leading zeros and all (0: the fewest)."""
    if not length_octets and len(content) < 0x80:
        return bytes((tag, len(content))) + content
    length_octets = length_octets or (len(content).bit_length() + 7) // 8
    return bytes((tag, 0x80 | length_octets)) + len(content).to_bytes(length_octets, "big") + content


def response(varbinds: bytes, *, length_octets: int = 0, version: bytes = b"\x02\x01\x01",
             header: bytes = b"\x02\x01\x07\x02\x01\x00\x02\x01\x00", pdu: int = ber.RESPONSE) -> bytes:
    """A Response built by hand around `varbinds` (already encoded), for what pyasn1 never writes."""
    body = header + tlv(0x30, varbinds, length_octets)
    return tlv(0x30, version + tlv(0x04, b"public") + tlv(pdu, body, length_octets), length_octets)


def varbind(name: bytes, value: bytes, length_octets: int = 0) -> bytes:
    return tlv(0x30, tlv(0x06, name, length_octets) + value, length_octets)


IF_DESCR_1 = ber.encode_oid(IF_DESCR + (1,))


@pytest.mark.parametrize("length_octets", [1, 2, 3, 4])
def test_long_form_lengths_with_leading_zeros(length_octets: int) -> None:
    """net-snmp writes every SEQUENCE length in two octets; BER allows up to the value's needs and more."""
    message = response(varbind(IF_DESCR_1, tlv(0x41, b"\x05", length_octets), length_octets), length_octets=length_octets)
    assert ber.decode_response(message) == (7, 0, 0, [(IF_DESCR + (1,), Tag.COUNTER32, 5)])
    theirs, rest = decoder.decode(message, asn1Spec=v2c.Message())
    assert not rest and int(v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(theirs))[0][1]) == 5


def test_application_integers_read_unsigned_as_net_snmp_does() -> None:
    """Some agents send Counter32 4294967295 as ff ff ff ff (no zero octet): it means 4294967295, not -1."""
    for tag, content, expected in [(0x41, b"\xff\xff\xff\xff", 2**32 - 1), (0x42, b"\x80", 128),
                                   (0x43, b"\x00\x00\x00\x00\x05", 5), (0x46, b"\xff" * 8, 2**64 - 1),
                                   (0x46, b"\x00" + b"\xff" * 8, 2**64 - 1)]:
        _, _, _, varbinds = ber.decode_response(response(varbind(IF_DESCR_1, tlv(tag, content))))
        assert varbinds == [(IF_DESCR + (1,), tag, expected)]


# ---------------------------------------------------------------- we encode, pysnmp decodes

def _decode_request(message: bytes, api: Any) -> tuple[Any, Any]:
    decoded, rest = decoder.decode(message, asn1Spec=api.Message())
    assert rest == b""
    return decoded, api.apiMessage.get_pdu(decoded)


@pytest.mark.parametrize(("kind", "pdu_type"), [(ber.GET_REQUEST, v2c.GetRequestPDU), (ber.GETNEXT_REQUEST, v2c.GetNextRequestPDU)])
@pytest.mark.parametrize(("version", "api"), [(0, v1), (1, v2c)], ids=["v1", "v2c"])
def test_get_and_getnext_requests_decode_with_pysnmp(kind: int, pdu_type: Any, version: int, api: Any) -> None:
    community = "公共-" + "c" * 200                       # long enough for a long-form length
    message = ber.Requests(version, community.encode()).encode(kind, 2**31 - 1, WIDE_OIDS)
    decoded, pdu = _decode_request(message, api)
    assert int(api.apiMessage.get_version(decoded)) == version
    assert bytes(api.apiMessage.get_community(decoded)) == community.encode()
    assert pdu.tagSet == pdu_type.tagSet
    assert int(api.apiPDU.get_request_id(pdu)) == 2**31 - 1
    assert (int(api.apiPDU.get_error_status(pdu)), int(api.apiPDU.get_error_index(pdu))) == (0, 0)
    varbinds = api.apiPDU.get_varbinds(pdu)
    assert [tuple(name) for name, _ in varbinds] == WIDE_OIDS
    assert all(value.tagSet == v2c.null.tagSet for _, value in varbinds)


def test_a_getbulk_request_decodes_with_pysnmp() -> None:
    oids = [IF_DESCR[:-1] + (column,) for column in range(1, 23)] * 10   # 220 varbinds: a long varbind list
    message = ber.Requests(1, b"public").encode(ber.GETBULK_REQUEST, 99, oids, 2, 25)
    _, pdu = _decode_request(message, v2c)
    assert pdu.tagSet == v2c.GetBulkRequestPDU.tagSet
    assert (int(v2c.apiBulkPDU.get_non_repeaters(pdu)), int(v2c.apiBulkPDU.get_max_repetitions(pdu))) == (2, 25)
    assert [tuple(name) for name, _ in v2c.apiPDU.get_varbinds(pdu)] == oids
    assert message == encoder.encode(decoder.decode(message, asn1Spec=v2c.Message())[0]), "pyasn1 writes the same octets"


@pytest.mark.parametrize("oid", [(1,), (3, 1), (1, 40), (0, 40, 1), (1, 3, -1), (1, 3, 2**32), (2, 2**32 - 80),
                                 (1, 3) + (1,) * 127])
def test_oids_that_cannot_be_encoded(oid: OID) -> None:
    with pytest.raises(ber.BerError):
        ber.encode_oid(oid)


def test_requests_that_cannot_be_encoded() -> None:
    requests = ber.Requests(1, b"public")
    for pdu, request_id, repetitions in [(ber.RESPONSE, 1, 0), (ber.GET_REQUEST, 1, 5), (ber.GETBULK_REQUEST, 2**31, 5)]:
        with pytest.raises(ber.BerError):
            requests.encode(pdu, request_id, [IF_DESCR], 0, repetitions)


# ---------------------------------------------------------------- hostile octets

def assert_refused(message: bytes, reason: str = "") -> None:
    with pytest.raises(ber.BerError) as refused:
        ber.decode_response(message)
    assert reason in str(refused.value), str(refused.value)


# An snmpd-like reply (two-octet lengths) and a pyasn1 one (short where possible).
SAMPLES = [
    EVERY_VALUE,
    response(b"".join(varbind(ber.encode_oid(IF_DESCR + (row,)), tlv(0x04, b"eth%d" % row, 2), 2) for row in range(1, 6)),
             length_octets=2),
]


@pytest.mark.parametrize("sample", [0, 1])
def test_every_truncation_is_refused(sample: int) -> None:
    message = SAMPLES[sample]
    for size in range(len(message)):
        assert_refused(message[:size])


@pytest.mark.parametrize("sample", [0, 1])
def test_trailing_octets_are_refused(sample: int) -> None:
    assert_refused(SAMPLES[sample] + b"\x00", "after the message")


@pytest.mark.parametrize("sample", [0, 1])
def test_random_corruption_gives_berror_or_a_well_formed_answer(sample: int) -> None:
    """Flip 1–4 octets at a time, with a fixed seed: decoding either succeeds with typed values or says why not."""
    rng = random.Random(20240611 + sample)
    message = SAMPLES[sample]
    refused = 0
    for _ in range(4000):
        corrupt = bytearray(message)
        for _ in range(rng.randint(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
        try:
            request_id, status, index, varbinds = ber.decode_response(bytes(corrupt))
        except ber.BerError:
            refused += 1
            continue
        assert all(isinstance(number, int) for number in (request_id, status, index))
        for name, tag, value in varbinds:
            assert isinstance(name, tuple) and 2 <= len(name) <= 128 and type(tag) is Tag
            assert value is None or isinstance(value, (int, bytes, tuple))
    assert refused > 1000


def test_random_garbage_is_refused() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        with pytest.raises(ber.BerError):
            ber.decode_response(bytes(rng.randrange(256) for _ in range(rng.randrange(64))))


GOOD_NAME = IF_DESCR_1


def nested(depth: int) -> bytes:
    """`depth` SEQUENCEs inside each other around a NULL, each with a four-octet length."""
    sizes = [2]
    for _ in range(depth):
        sizes.append(sizes[-1] + 6)
    headers = (b"\x30\x84" + size.to_bytes(4, "big") for size in reversed(sizes[:-1]))
    return b"".join(headers) + b"\x05\x00"

HOSTILE: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "the message is missing"),
    "not a SEQUENCE": (b"\x04\x00", "has tag 0x04"),
    "giant outer length": (b"\x30\x84\xff\xff\xff\xff" + EVERY_VALUE[4:], "overruns its container"),
    "five length octets": (b"\x30\x85\x00\x00\x00\x00\x10" + b"\x00" * 16, "a length of 5 octets"),
    "indefinite length": (b"\x30\x80" + EVERY_VALUE[4:] + b"\x00\x00", "indefinite"),
    "deep nesting": (nested(10_000), "the version has tag 0x30"),
    "version 3": (response(b"", version=b"\x02\x01\x03"), "version 3"),
    "a request, not a response": (response(b"", pdu=ber.GET_REQUEST), "the Response PDU has tag 0xa0"),
    "a trap": (response(b"", pdu=0xA7), "tag 0xa7"),
    "request-id of 6 octets": (response(b"", header=b"\x02\x06\x00\x00\x00\x00\x00\x07\x02\x01\x00\x02\x01\x00"),
                               "the request-id of 6 octets"),
    "empty request-id": (response(b"", header=b"\x02\x00\x02\x01\x00\x02\x01\x00"), "the request-id of 0 octets"),
    "request-id beyond Integer32": (response(b"", header=b"\x02\x05\x00\x80\x00\x00\x00\x02\x01\x00\x02\x01\x00"),
                                    "does not fit an Integer32"),
    "giant varbind": (response(b"\x30\x84\x7f\xff\xff\xff" + b"\x06\x01\x2b\x05\x00"), "runs past the varbind list"),
    "giant value length": (response(varbind(GOOD_NAME, b"\x04\x84\x7f\xff\xff\xff")), "does not end where its varbind does"),
    "varbind not a SEQUENCE": (response(b"\x31\x04\x06\x01\x2b\x05\x00"), "not SEQUENCE"),
    "name not an OID": (response(tlv(0x30, b"\x04\x01\x2b\x05\x00")), "not OBJECT IDENTIFIER"),
    "empty name": (response(varbind(b"", b"\x05\x00")), "OBJECT IDENTIFIER of no octets"),
    "name with a cut sub-identifier": (response(varbind(b"\x2b\x06\x81", b"\x05\x00")), "cut short"),
    "name padded with 0x80": (response(varbind(b"\x2b\x80\x01", b"\x05\x00")), "leading 0x80"),
    "sub-identifier beyond 2**32-1": (response(varbind(b"\x2b\x90\x80\x80\x80\x00", b"\x05\x00")), "exceeds 2**32-1"),
    "129 sub-identifiers": (response(varbind(b"\x2b" + b"\x01" * 127, b"\x05\x00")), "more than 128"),
    "129 sub-identifiers, long ones": (response(varbind(b"\x2b" + b"\x81\x00" * 127, b"\x05\x00")), "more than 128"),
    "value missing": (response(tlv(0x30, tlv(0x06, GOOD_NAME))), "a varbind without a value"),
    "two values": (response(varbind(GOOD_NAME, b"\x05\x00\x05\x00")), "does not end where its varbind does"),
    "BOOLEAN": (response(varbind(GOOD_NAME, b"\x01\x01\xff")), "tag 0x01 is not an SNMP value type"),
    "constructed OCTET STRING": (response(varbind(GOOD_NAME, b"\x24\x03\x04\x01x")), "tag 0x24"),
    "multi-octet tag": (response(varbind(GOOD_NAME, b"\x5f\x81\x01\x00")), "tag 0x5f"),
    "empty INTEGER": (response(varbind(GOOD_NAME, b"\x02\x00")), "an INTEGER of 0 octets"),
    "INTEGER of 6 octets": (response(varbind(GOOD_NAME, b"\x02\x06\x00\x00\x00\x00\x00\x01")), "INTEGER of 6 octets"),
    "INTEGER beyond Integer32": (response(varbind(GOOD_NAME, b"\x02\x05\x00\x80\x00\x00\x00")), "does not fit an Integer32"),
    "INTEGER below Integer32": (response(varbind(GOOD_NAME, b"\x02\x05\xff\x7f\xff\xff\xff")), "does not fit an Integer32"),
    "Counter32 beyond 2**32-1": (response(varbind(GOOD_NAME, b"\x41\x05\x01\x00\x00\x00\x00")), "exceeds 2**32-1"),
    "Counter32 of 6 octets": (response(varbind(GOOD_NAME, b"\x41\x06\x00\x00\x00\x00\x00\x01")), "of 6 octets"),
    "empty Gauge32": (response(varbind(GOOD_NAME, b"\x42\x00")), "of 0 octets"),
    "Counter64 beyond 2**64-1": (response(varbind(GOOD_NAME, b"\x46\x09\x01" + b"\x00" * 8)), "exceeds 2**64-1"),
    "Counter64 of 10 octets": (response(varbind(GOOD_NAME, b"\x46\x0a" + b"\x00" * 9 + b"\x01")), "Counter64 of 10 octets"),
    "IpAddress of 5 octets": (response(varbind(GOOD_NAME, b"\x40\x05\x0a\x00\x00\x01\x00")), "IpAddress of 5 octets"),
    "NULL with content": (response(varbind(GOOD_NAME, b"\x05\x01\x00")), "content octets"),
    "endOfMibView with content": (response(varbind(GOOD_NAME, b"\x82\x01\x00")), "content octets"),
    "OID value with a cut sub-identifier": (response(varbind(GOOD_NAME, b"\x06\x02\x2b\x86")), "cut short"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_octets_are_refused_with_a_reason(case: str) -> None:
    message, reason = HOSTILE[case]
    assert_refused(message, reason)


def test_octets_inside_the_pdu_after_the_varbind_list_are_refused() -> None:
    inner = b"\x02\x01\x07\x02\x01\x00\x02\x01\x00" + tlv(0x30, varbind(GOOD_NAME, b"\x05\x00")) + b"\x05\x00"
    assert_refused(tlv(0x30, b"\x02\x01\x01" + tlv(0x04, b"public") + tlv(ber.RESPONSE, inner)), "after the varbind list")
    assert_refused(tlv(0x30, b"\x02\x01\x01" + tlv(0x04, b"public") + tlv(ber.RESPONSE, inner[:-2]) + b"\x05\x00"),
                   "after the PDU")
