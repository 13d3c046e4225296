"""Counters become rates on the agent, so a wrap or a reset is handled once,
where the previous reading is known, and never shows downstream as a spike.

Rules, the same for every poller (host, SNMP, SSH):
* the first reading of a counter gives no rate;
* a counter that went down wrapped if its width is known and the wrapped
  delta is plausible (less than half the counter's range); otherwise it was
  reset (reboot, driver reload, `clear counters`) and that interval gives no
  rate;
* a poller that knows the device rebooted (uptime went back) calls `forget()`
  for the device so no rate spans the reboot.
"""

from __future__ import annotations

from collections.abc import Hashable


class CounterRates:
    def __init__(self) -> None:
        self._last: dict[Hashable, tuple[float, int]] = {}

    def rate(self, key: Hashable, counter: int, at_s: float, width_bits: int | None = 64) -> float | None:
        """Per-second rate of `counter` since its previous reading, or None."""
        previous = self._last.get(key)
        self._last[key] = (at_s, counter)
        if previous is None:
            return None
        then, before = previous
        elapsed = at_s - then
        if elapsed <= 0:
            return None
        delta = counter - before
        if delta < 0:
            if width_bits is None:
                return None
            span = 1 << width_bits
            wrapped = counter + span - before
            if before >= span or wrapped >= span // 2:
                return None  # a reset, not a wrap
            delta = wrapped
        return delta / elapsed

    def forget(self, prefix: Hashable | None = None) -> None:
        """Drop remembered readings: all of them, or those whose key starts with `prefix`."""
        if prefix is None:
            self._last.clear()
            return
        for key in [k for k in self._last if isinstance(k, tuple) and k and k[0] == prefix]:
            del self._last[key]

    def __len__(self) -> int:
        return len(self._last)
