"""Incident notifications: the `Notifier` interface, and what every notifier is given to send.

Notices are decided where they happen (the keeper, the SLA sweep; see
collector/incidents/notices.py); the notification service (service.py)
renders each pending one once (render.py), picks its notifiers from the
customer's routes (routes.py), and hands it to them. A notifier only
queues, durably and under the notice's key: the e-mail notifier into the
mail outbox (collector/mail), the webhook notifier into the webhook outbox
(webhook.py); their deliverers send with retries and backoff on threads of
their own. So nothing here ever waits for a mail server, and a notice is
sent once per key, even across restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    """One notice, rendered for people (subject, text, html) and for machines (`data`)."""

    subject: str
    text: str
    html: str
    data: dict[str, Any] = field(default_factory=dict)   # the structured notice, posted as JSON by webhooks


class Notifier(Protocol):
    """Queues a rendered notice for delivery on its channel, once per key."""

    channel: str          # "email" | "webhook"
    target: str           # whom, for the record: addresses, or the webhook's host (never its token)

    def enqueue(self, key: str, message: Message) -> bool:
        """True if queued now; False if this key was queued before (it will not be sent again)."""
        ...


__all__ = ["Message", "Notifier"]
