"""The gRPC face of the collector: one `Connect` stream per agent.

A stream's life: Hello → identity check → register → Welcome (with the
agent's stored high-water mark) → batches in, cumulative acks out, each ack
sent only after the batch's transaction committed. Reading stops while too
many of the stream's batches wait for the store, so a slow disk pushes back
on the agent through HTTP/2 flow control instead of growing memory here.

Whatever one agent sends wrong ends that agent's stream with a status that
names the problem; other streams never notice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
from google.protobuf.message import DecodeError

from collector.decode import BatchError, ContractError, SeriesChecker, check_hello, decode
from collector.ingest import Ingest, StoreUnavailable, StreamState
from collector.runs.dispatch import RunDispatcher
from collector.store import registry
from collector.store.delivery import Delivery
from protos.vigil.v1 import agent_pb2 as pb

log = logging.getLogger("vigil.collector.gateway")

PROTOCOL = "vigil.v1"
REJECTED_SEQ_KEY = "vigil-rejected-seq"
SERVICE = "vigil.v1.AgentGateway"
MAX_UNACKED_PER_STREAM = 64


@dataclass(slots=True)
class Malformed:
    """A message whose bytes did not parse; the handler reports it with the agent's name."""

    error: str
    size: int


def parse_agent_message(data: bytes) -> pb.AgentMessage | Malformed:
    try:
        return pb.AgentMessage.FromString(data)
    except DecodeError as exc:
        return Malformed(str(exc) or "invalid protobuf", len(data))


class Reject(Exception):
    """End this agent's stream with `code`; `details` names the agent and the problem."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(details)
        self.code, self.details, self.trailing = code, details, trailing


class Gateway:
    def __init__(
        self,
        ingest: Ingest,
        collector_id: str,
        *,
        require_identity: bool,
        heartbeat_interval_s: int = 30,
        max_message_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self.ingest = ingest
        self.collector_id = collector_id
        self.require_identity = require_identity
        self.heartbeat_interval_s = heartbeat_interval_s
        self.max_message_bytes = max_message_bytes
        self.streams: dict[str, asyncio.Task[object]] = {}
        # agent id → send a message on its open stream (one writer at a time per stream)
        self.links: dict[str, Callable[[pb.CollectorMessage], Awaitable[None]]] = {}
        self.runs: RunDispatcher | None = None

    def handler(self) -> grpc.GenericRpcHandler:
        """The service's method table, with a parser that reports bad bytes instead of failing opaquely."""
        connect = grpc.stream_stream_rpc_method_handler(
            self.Connect,
            request_deserializer=parse_agent_message,
            response_serializer=pb.CollectorMessage.SerializeToString,
        )
        return grpc.method_handlers_generic_handler(SERVICE, {"Connect": connect})

    async def Connect(  # noqa: N802 - the gRPC method's name
        self, requests: AsyncIterator[pb.AgentMessage | Malformed], context: grpc.aio.ServicerContext
    ) -> None:
        peer = context.peer()
        first = await anext(aiter(requests), None)
        if first is None:
            return
        if isinstance(first, Malformed) or first.WhichOneof("body") != "hello":
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{peer}: the first message must be a hello")
        hello = first.hello
        agent_id = await self._check_hello(hello, context)
        loop_task = asyncio.current_task()
        previous = self.streams.get(agent_id)
        if previous is not None and previous is not loop_task:
            log.warning("agent %s connected again from %s; closing its older stream", agent_id, peer)
            previous.cancel()
        self.streams[agent_id] = loop_task  # type: ignore[assignment]
        ingest = self.ingest
        try:
            now_ms = int(time.time() * 1000)
            await ingest.run_in_store(registry.register, ingest.engine, hello, peer, now_ms)
            delivery: Delivery = await ingest.run_in_store(  # type: ignore[assignment]
                ingest.writer.load_delivery, agent_id, hello.oldest_unacked_seq
            )
            await context.write(
                pb.CollectorMessage(
                    welcome=pb.Welcome(
                        collector_id=self.collector_id,
                        protocol=PROTOCOL,
                        last_stored_seq=delivery.watermark,
                        stored_above=sorted(delivery.above),
                        heartbeat_interval_s=self.heartbeat_interval_s,
                        max_message_bytes=self.max_message_bytes,
                    )
                )
            )
            log.info(
                "agent %s (%s / %s, v%s) connected from %s with %d devices; stored up to batch %d (+%d above)",
                agent_id, hello.customer, hello.site, hello.agent_version, peer, len(hello.devices),
                delivery.watermark, len(delivery.above),
            )
            await self._stream(agent_id, {d.id for d in hello.devices}, requests, context)
        finally:
            if self.streams.get(agent_id) is loop_task:
                del self.streams[agent_id]
                self.links.pop(agent_id, None)
                if self.runs is not None:
                    await self.runs.agent_gone(agent_id)
                try:
                    await ingest.run_in_store(registry.disconnected, ingest.engine, agent_id, int(time.time() * 1000))
                except Exception as exc:  # noqa: BLE001 - the stream is over either way; say why the mark is stale
                    log.warning("agent %s: could not record the disconnection: %s: %s", agent_id, type(exc).__name__, exc)
                log.info("agent %s disconnected", agent_id)

    async def _check_hello(self, hello: pb.Hello, context: grpc.aio.ServicerContext) -> str:
        peer = context.peer()
        agent_id = hello.agent_id
        try:
            check_hello(hello)
        except ContractError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{peer}: {exc}")
        if hello.protocol and hello.protocol != PROTOCOL:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"agent {agent_id}: speaks {hello.protocol}, this collector speaks {PROTOCOL}",
            )
        if self.require_identity:
            names = context.auth_context().get("x509_common_name") or []
            common_name = names[0].decode() if names else ""
            if common_name != agent_id:
                log.warning("refused %s: hello says agent %r, certificate says %r", peer, agent_id, common_name)
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"agent {agent_id!r}: the client certificate belongs to {common_name or 'nobody'!r}",
                )
        return agent_id

    async def _stream(
        self,
        agent_id: str,
        devices: set[str],
        requests: AsyncIterator[pb.AgentMessage | Malformed],
        context: grpc.aio.ServicerContext,
    ) -> None:
        unacked: asyncio.Queue[tuple[int, asyncio.Future[bool] | None]] = asyncio.Queue(MAX_UNACKED_PER_STREAM)
        writing = asyncio.Lock()

        async def send(message: pb.CollectorMessage) -> None:
            async with writing:  # acks and commands share the stream: one write at a time
                await context.write(message)

        self.links[agent_id] = send
        acker = asyncio.create_task(self._ack(agent_id, unacked, send))
        reader = asyncio.create_task(self._read(agent_id, devices, requests, unacked))
        try:
            done, _ = await asyncio.wait({reader, acker}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                reader.result()
                await acker  # the reader queued an end marker: finish acking, then end
            else:
                acker.result()
        except Reject as exc:
            if exc.trailing:
                context.set_trailing_metadata(exc.trailing)
            await context.abort(exc.code, exc.details)
        except StoreUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"agent {agent_id}: store unavailable ({exc}); resend later")
        finally:
            reader.cancel()
            acker.cancel()

    async def _read(
        self,
        agent_id: str,
        devices: set[str],
        requests: AsyncIterator[pb.AgentMessage | Malformed],
        unacked: asyncio.Queue[tuple[int, asyncio.Future[bool] | None]],
    ) -> None:
        """Take messages in order; raise Reject on the first that breaks the contract."""
        stream = StreamState()
        series = SeriesChecker(devices)
        count = 0
        async for message in requests:
            count += 1
            if isinstance(message, Malformed):
                raise Reject(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"agent {agent_id}: message #{count} ({message.size} bytes) is not a valid "
                    f"vigil.v1.AgentMessage: {message.error}",
                )
            kind = message.WhichOneof("body")
            if kind == "batch":
                batch = message.batch
                if self.ingest.writer.delivery(agent_id).has(batch.seq):
                    await unacked.put((batch.seq, None))  # a resend of a stored batch: ack it again
                    continue
                try:
                    decoded = decode(agent_id, batch, series, int(time.time() * 1000))
                except BatchError as exc:
                    log.warning("rejected %s", exc)
                    raise Reject(grpc.StatusCode.INVALID_ARGUMENT, str(exc), ((REJECTED_SEQ_KEY, str(batch.seq)),)) from None
                await unacked.put((batch.seq, await self.ingest.enqueue(decoded, stream)))
            elif kind == "heartbeat":
                await self.ingest.run_in_store(self._heartbeat, agent_id, message.heartbeat, int(time.time() * 1000))
            elif kind == "playbook_output":
                if self.runs is not None:
                    self.runs.received(agent_id, message.playbook_output)
            elif kind == "command_result":
                result = message.command_result
                if not result.ok:
                    log.warning("agent %s could not take command %s: %s", agent_id, result.command_id, result.error)
            elif kind == "hello":
                raise Reject(grpc.StatusCode.FAILED_PRECONDITION, f"agent {agent_id}: a second hello on one stream")
            else:
                log.debug("agent %s sent a message kind this collector ignores: %s", agent_id, kind)
        await unacked.put((-1, None))

    def _heartbeat(self, agent_id: str, beat: pb.Heartbeat, now_ms: int) -> None:
        """On the store thread: record the agent's status; forget numbers it no longer holds."""
        registry.heartbeat(self.ingest.engine, agent_id, beat, now_ms)
        if beat.oldest_unacked_seq:
            self.ingest.writer.holds_nothing_below(agent_id, beat.oldest_unacked_seq)

    async def _ack(
        self, agent_id: str, unacked: asyncio.Queue[tuple[int, asyncio.Future[bool] | None]],
        send: Callable[[pb.CollectorMessage], Awaitable[None]],
    ) -> None:
        """Acknowledge in order, coalescing whatever has already committed into one Ack.

        An Ack carries the agent's watermark and, above it, the numbers stored
        out of order (a replay interleaved with live batches).
        """
        while True:
            seq, future = await unacked.get()
            if seq < 0:
                return
            if future is not None:
                await future
            done = [seq]
            while not unacked.empty():
                next_seq, next_future = unacked._queue[0]  # type: ignore[attr-defined]  # peek
                if next_seq < 0 or (next_future is not None and not next_future.done()):
                    break
                unacked.get_nowait()
                if next_future is not None:
                    next_future.result()
                done.append(next_seq)
            watermark = self.ingest.writer.delivery(agent_id).watermark
            ack = pb.Ack(seq=watermark, stored=[s for s in done if s > watermark], slow_down=self.ingest.overloaded)
            await send(pb.CollectorMessage(ack=ack))
