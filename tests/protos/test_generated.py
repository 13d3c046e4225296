"""The committed generated modules must be exactly what protoc produces from the .proto files."""

from __future__ import annotations

from pathlib import Path

from protos import generate


def test_generated_code_matches_protoc(tmp_path: Path) -> None:
    generate.generate(tmp_path)
    produced = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.py*"))
    assert produced, "protoc produced nothing"
    for relative in produced:
        committed = generate.ROOT / relative
        assert committed.exists(), f"{relative} is generated but not committed: run python -m protos.generate"
        assert committed.read_text() == (tmp_path / relative).read_text(), (
            f"{relative} differs from protoc's output: run python -m protos.generate and commit"
        )


def test_generated_modules_import_as_protos_package() -> None:
    from protos.vigil.v1 import agent_pb2, agent_pb2_grpc

    assert agent_pb2.DESCRIPTOR.package == "vigil.v1"
    assert hasattr(agent_pb2_grpc, "AgentGatewayStub")


def test_batch_round_trips_columnar_series() -> None:
    from protos.vigil.v1 import agent_pb2 as pb

    from protos import serieskey

    message = pb.AgentMessage()
    serieskey.add_series(message.batch, "d1", "cpu_usage_percent", (("cpu", "cpu0"),), [1, 2, 3], [0.5, 1.5, 2.5])
    serieskey.add_series(message.batch, "d1", "mem_used_percent", (), [2], [40.0])
    message.batch.seq = 7
    decoded = pb.AgentMessage.FromString(message.SerializeToString())
    assert decoded.WhichOneof("body") == "batch"
    assert decoded.batch.seq == 7
    assert list(decoded.batch.point_counts) == [3, 1]
    assert list(serieskey.iter_series(decoded.batch)) == [
        ("d1", "cpu_usage_percent", (("cpu", "cpu0"),), [1, 2, 3], [0.5, 1.5, 2.5]),
        ("d1", "mem_used_percent", (), [2], [40.0]),
    ]


def test_unknown_oneof_member_is_ignored_by_an_older_reader() -> None:
    """Compatibility: a message kind added later parses as 'no body' on today's code."""
    from google.protobuf import descriptor_pb2  # noqa: F401  (ensures the runtime is complete)

    from protos.vigil.v1 import agent_pb2 as pb

    # Field 15 of AgentMessage is not defined today: tag (15 << 3 | 2), length 0.
    future_message = bytes([15 << 3 | 2, 0])
    parsed = pb.AgentMessage.FromString(future_message)
    assert parsed.WhichOneof("body") is None
