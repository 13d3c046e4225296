"""A background worker that repeats one pass over the store until stopped.

The collector's mail deliverer, webhook deliverer, notification service and
SLA sweep each work the same way: `run_once()` on a daemon thread, every
interval or sooner when woken. A pass that fails (a busy store, a bug on one
row) is logged and the next one tries again, so the work never ends for good.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("vigil.collector")


class Passes:
    def __init__(self, name: str, run_once: Callable[[], object], interval_s: float,
                 wake: threading.Event | None = None) -> None:
        self.name = name
        self._run_once = run_once
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._wake = wake or self._stop     # without a wake event, sleep until the interval or stop
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Start the thread; False if it was running already."""
        if self._thread is not None:
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._run_once()
            except Exception:  # noqa: BLE001 - the store may be busy; the next pass tries again
                log.exception("%s: a pass failed; trying again", self.name)
            self._wake.wait(self._interval_s)
            if self._wake is not self._stop:
                self._wake.clear()
