"""The e-mail notifier: a notice into the shared mail outbox (collector/mail), under the notice's key."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from collector.mail import outbox
from collector.notify import Message


class EmailNotifier:
    channel = "email"

    def __init__(self, engine: Engine, to: Sequence[str]) -> None:
        self.engine = engine
        self.to = tuple(to)
        self.target = ", ".join(self.to)

    def enqueue(self, key: str, message: Message) -> bool:
        return outbox.enqueue(self.engine, key, self.to, message.subject, message.html, message.text)
