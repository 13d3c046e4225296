"""When to try again: exponential backoff with a cap, and when to give up. Shared by mail and webhooks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_s: float = 30.0           # wait after the first failure
    max_s: float = 1800.0             # the backoff's cap
    give_up_after_s: float = 2 * 86400.0   # from the first enqueue; then the delivery is failed

    def next_attempt_ms(self, now_ms: int, attempts: int) -> int:
        """After the `attempts`-th failed attempt (1 = the first): now + initial · 2^(attempts-1), capped."""
        wait_s = min(self.max_s, self.initial_s * 2 ** max(0, min(attempts - 1, 40)))
        return now_ms + int(wait_s * 1000)

    def gave_up(self, now_ms: int, created_ms: int) -> bool:
        return now_ms - created_ms >= self.give_up_after_s * 1000
