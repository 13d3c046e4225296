"""A TCP proxy on 127.0.0.1 that a test can break: the link to a collector or a device.

It runs its own event loop in a thread. `cut()` drops every open
connection at once, like a NAT forgetting its table or a flapping uplink;
new connections are accepted again right away. `freeze()` stops carrying
bytes on every connection open now, in both directions, without closing
anything (a hung box, a black-holed path: the client's socket stays up and
nothing more arrives); connections made after it are carried normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.peers.postgres import free_port


class FlakyLink:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.cuts = 0
        self.connections = 0
        self._frozen: set[int] = set()
        self._open: set[int] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flaky-link", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("proxy did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        self.connections += 1
        number = self.connections
        self._open.add(number)
        self._writers |= {client_writer, server_writer}
        with contextlib.suppress(asyncio.CancelledError):  # closing the link
            await asyncio.gather(self._pipe(number, client_reader, server_writer),
                                 self._pipe(number, server_reader, client_writer))

    async def _pipe(self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if number in self._frozen:
                    await asyncio.Event().wait()        # hung: hold everything, forever
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def cut(self) -> None:
        """Drop every connection now (RST-like: the sockets are closed under both peers)."""

        def close_all() -> None:
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        self._loop.call_soon_threadsafe(close_all)
        self.cuts += 1

    def freeze(self) -> None:
        """Stop carrying bytes on every connection open now; later connections are not affected."""
        self._loop.call_soon_threadsafe(lambda: self._frozen.update(self._open))

    def close(self) -> None:
        async def shutdown() -> None:
            for writer in list(self._writers):
                writer.transport.abort()
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(10)
