"""The agent's one outbound gRPC stream to the collector.

The agent dials out (customer firewalls allow that, not the reverse) and
keeps one bidirectional stream: Hello → Welcome, then batches up and
cumulative acks down. Everything unacknowledged is resent on the next
connection; the collector drops what it already stored, so delivery is
at-least-once with an exactly-once effect.

Reconnects back off exponentially with jitter, so a thousand agents whose
collector restarts do not return in the same second. gRPC keepalive pings
notice a dead path (a NAT that forgot us) within `keepalive + timeout`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable

import grpc

from agent.config import AgentConfig
from agent.buffer import DurableBuffer
from agent.sequence import SequenceAllocator
from protos.vigil.v1 import agent_pb2 as pb

log = logging.getLogger("vigil.agent.transport")

PROTOCOL = "vigil.v1"
REJECTED_SEQ_KEY = "vigil-rejected-seq"
WELCOME_TIMEOUT_S = 15.0
CONNECT = "/vigil.v1.AgentGateway/Connect"
# Batches polled this recently before a connection count as live, not as a replay.
LIVE_GRACE_MS = 5_000


def _serialize(message: pb.AgentMessage | bytes) -> bytes:
    """Batches go out as the bytes the buffer holds; other messages are serialized here."""
    return message if isinstance(message, bytes) else message.SerializeToString()


class Backoff:
    def __init__(self, initial_s: float, max_s: float, multiplier: float, jitter: float) -> None:
        self._initial, self._max, self._multiplier, self._jitter = initial_s, max_s, multiplier, jitter
        self._next = initial_s

    def reset(self) -> None:
        self._next = self._initial

    def delay(self) -> float:
        base = self._next
        self._next = min(self._max, self._next * self._multiplier)
        return max(0.0, base * (1 + random.uniform(-self._jitter, self._jitter)))


def channel_credentials(config: AgentConfig) -> grpc.ChannelCredentials | None:
    tls = config.collector.tls
    if tls is None:
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=tls.ca.read_bytes(),
        private_key=tls.key.read_bytes() if tls.key else None,
        certificate_chain=tls.cert.read_bytes() if tls.cert else None,
    )


def open_channel(config: AgentConfig) -> grpc.aio.Channel:
    c = config.collector
    options: list[tuple[str, int | str]] = [
        ("grpc.keepalive_time_ms", int(c.keepalive * 1000)),
        ("grpc.keepalive_timeout_ms", int(c.keepalive_timeout * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.max_send_message_length", config.max_message_bytes),
        # We do our own backoff; gRPC's would stack on top of it.
        ("grpc.initial_reconnect_backoff_ms", 1000),
        ("grpc.enable_retries", 0),
    ]
    if c.tls is not None and c.tls.server_name:
        options.append(("grpc.ssl_target_name_override", c.tls.server_name))
    compression = grpc.Compression.Gzip if c.compression == "gzip" else grpc.Compression.NoCompression
    credentials = channel_credentials(config)
    if credentials is None:
        return grpc.aio.insecure_channel(c.address, options=options, compression=compression)
    return grpc.aio.secure_channel(c.address, credentials, options=options, compression=compression)


class Transport:
    def __init__(
        self,
        config: AgentConfig,
        hello: Callable[[], pb.Hello],
        outbox: DurableBuffer,
        sequence: SequenceAllocator,
    ) -> None:
        self._config = config
        self._hello = hello
        self._outbox = outbox
        self._sequence = sequence
        c = config.collector.reconnect
        self._backoff = Backoff(c.initial, c.max, c.multiplier, c.jitter)
        self.connected = asyncio.Event()
        self.sessions = 0
        self._slow_down = False
        # Commands from the collector go here (the playbook runner); what it
        # answers goes out beside the batches, unbuffered: a run's output
        # is only worth anything while its engineer is watching.
        self.on_command: Callable[[pb.Command], None] | None = None
        self._live: deque[pb.AgentMessage] = deque()
        self._live_ready = asyncio.Event()
        self._replay_share = config.buffer.replay_share

    def send_live(self, message: pb.AgentMessage) -> bool:
        """Send `message` on the open stream, after what is already queued; False when disconnected."""
        if not self.connected.is_set():
            return False
        self._live.append(message)
        self._live_ready.set()
        return True

    async def run(self) -> None:
        """Connect, stream, and reconnect for ever (until cancelled)."""
        address = self._config.collector.address
        while True:
            started = time.monotonic()
            try:
                await self._session()
            except grpc.aio.AioRpcError as exc:
                self._on_rpc_error(exc)
            except ProtocolError as exc:
                log.error("collector %s: %s", address, exc)
            finally:
                self.connected.clear()
                self._live.clear()
            if time.monotonic() - started > 60:
                self._backoff.reset()  # the link was healthy for a while: retry quickly
            delay = self._backoff.delay()
            log.info("reconnecting to %s in %.1fs", address, delay)
            await asyncio.sleep(delay)

    def _on_rpc_error(self, exc: grpc.aio.AioRpcError) -> None:
        address = self._config.collector.address
        for key, value in exc.trailing_metadata() or ():
            if key == REJECTED_SEQ_KEY and str(value).isdigit():
                self._outbox.reject(int(value), exc.details() or "")
                return
        if exc.code() == grpc.StatusCode.UNAVAILABLE:
            log.warning("collector %s unavailable: %s", address, exc.details())
        else:
            log.error("collector %s ended the stream: %s: %s", address, exc.code().name, exc.details())

    async def _session(self) -> None:
        async with open_channel(self._config) as channel:
            call = channel.stream_stream(CONNECT, request_serializer=_serialize, response_deserializer=pb.CollectorMessage.FromString)()
            await call.write(pb.AgentMessage(hello=self._hello()))
            try:
                first = await asyncio.wait_for(call.read(), WELCOME_TIMEOUT_S)
            except TimeoutError:
                call.cancel()
                raise ProtocolError(f"no welcome within {WELCOME_TIMEOUT_S:.0f}s") from None
            # A failed stream raises AioRpcError from read(); here it ended "OK" but wrongly.
            if first is grpc.aio.EOF or first.WhichOneof("body") != "welcome":
                raise ProtocolError("the collector did not answer the hello with a welcome")
            welcome = first.welcome
            self._on_welcome(welcome)
            self.sessions += 1
            self.connected.set()
            log.info(
                "connected to collector %s (%s); it has stored up to batch %d",
                welcome.collector_id, self._config.collector.address, welcome.last_stored_seq,
            )
            heartbeat_s = float(welcome.heartbeat_interval_s or 30)
            reader = asyncio.create_task(self._read_acks(call))
            try:
                await self._send(call, reader, heartbeat_s)
            finally:
                reader.cancel()
                call.cancel()

    def _on_welcome(self, welcome: pb.Welcome) -> None:
        stored, above = welcome.last_stored_seq, list(welcome.stored_above)
        newest_known = max([stored, *above])
        oldest = self._outbox.oldest()
        if self._sequence.fresh and self.sessions == 0 and oldest and oldest <= newest_known:
            # Our state directory is new but the collector knows this agent:
            # our numbers would look like duplicates. Continue after its.
            mapping = self._outbox.renumber(newest_known + 1)
            self._sequence.skip_past(newest_known + len(mapping))
            log.warning("state directory is new; continuing batch numbers after %d", newest_known)
        else:
            self._sequence.skip_past(newest_known)
            self._outbox.ack(stored)
            self._outbox.forget(above)

    async def _read_acks(self, call: grpc.aio.StreamStreamCall) -> None:
        while True:
            message = await call.read()
            if message is grpc.aio.EOF:
                return
            kind = message.WhichOneof("body")
            if kind == "ack":
                ack = message.ack
                self._outbox.ack(ack.seq)
                self._outbox.forget(list(ack.stored))
                if ack.slow_down != self._slow_down:
                    self._slow_down = ack.slow_down
                    log.warning("collector asks to slow down" if self._slow_down else "collector load is normal again")
            elif kind == "command":
                self._command(message.command)
            elif kind is None:
                log.debug("ignoring a message kind this agent does not know")

    def _command(self, command: pb.Command) -> None:
        if self.on_command is not None and command.WhichOneof("action") is not None:
            self.on_command(command)
        else:
            log.warning("collector sent command %s, which this agent does not support", command.command_id)
            self.send_live(pb.AgentMessage(command_result=pb.CommandResult(
                command_id=command.command_id, ok=False, error="unsupported command")))

    async def _send(self, call: grpc.aio.StreamStreamCall, reader: asyncio.Task[None], heartbeat_s: float) -> None:
        """Write buffered batches within the in-flight window, and a heartbeat every interval.

        A backlog from before this connection (a replay) and batches made
        since (live) share the window: the replay takes at most
        `replay_share` of it while live batches wait, so fresh data is never
        stuck behind an hour of history. The collector stores them in any
        order and acks by number. Heartbeats go out while batches flow too:
        during a long replay they are how the collector learns the backlog.
        """
        window = self._config.collector.max_in_flight_batches
        # Live: what was polled since shortly before this connection; older is a replay.
        live_from = self._outbox.first_newer_than(int(time.time() * 1000) - LIVE_GRACE_MS)
        if len(self._outbox):
            log.info(
                "replaying %d buffered batches (%d points) beside live data; batches from %d on are live",
                len(self._outbox), self._outbox.points, live_from,
            )
        in_flight: set[int] = set()
        next_heartbeat = time.monotonic()
        while not reader.done():
            if time.monotonic() >= next_heartbeat:
                await call.write(pb.AgentMessage(heartbeat=self.heartbeat()))
                next_heartbeat = time.monotonic() + heartbeat_s
            self._live_ready.clear()
            while self._live:
                await call.write(self._live.popleft())
            in_flight = {seq for seq in in_flight if self._outbox.has(seq)}
            batches = self._pick(in_flight, (1 if self._slow_down else window) - len(in_flight), live_from)
            for seq in batches:
                if self._outbox.has(seq):  # an ack may have released it meanwhile
                    await call.write(self._outbox.payload(seq))
                    in_flight.add(seq)
            if batches:
                continue
            self._outbox.changed.clear()
            waiters = {asyncio.create_task(self._outbox.changed.wait()), asyncio.create_task(self._live_ready.wait())}
            await asyncio.wait(
                {*waiters, reader}, timeout=max(0.05, next_heartbeat - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            for waiter in waiters:
                waiter.cancel()
        await reader  # re-raise the reader's error, if it ended with one

    def _pick(self, in_flight: set[int], budget: int, live_from: int) -> list[int]:
        """The next batches to send within `budget`: the replay's share, live batches the rest.

        With both waiting, the replay gets `replay_share` of the budget (1.0:
        all of it, live waits) and live batches at least one slot; whatever
        one side does not use, the other may.
        """
        if budget <= 0:
            return []
        live = self._outbox.select(in_flight, budget, lo=live_from)
        replay_budget = budget - len(live)
        if live:
            share = budget if self._replay_share >= 1.0 else min(budget - 1, int(budget * self._replay_share))
            replay_budget = max(replay_budget, share)
        replay = self._outbox.select(in_flight, replay_budget, hi=live_from)
        return replay + live[: budget - len(replay)]

    def heartbeat(self) -> pb.Heartbeat:
        dropped = self._outbox.dropped
        return pb.Heartbeat(
            sent_at_ms=int(time.time() * 1000),
            buffered_batches=len(self._outbox),
            buffered_points=self._outbox.points,
            buffered_bytes=self._outbox.bytes,
            oldest_unacked_ts_ms=self._outbox.oldest_ts_ms(),
            dropped_points=dropped.points,
            dropped_from_ms=dropped.from_ms,
            dropped_to_ms=dropped.to_ms,
            oldest_unacked_seq=self._outbox.oldest(),
        )


class ProtocolError(Exception):
    """The collector broke the contract (no welcome, wrong first message)."""
