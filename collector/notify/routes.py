"""Who hears about a notice: the customer's routes from the collector config.

Incident events (opened, re-opened, flapping, resolved) go to the on-call
engineers, to the customer's contacts from `contacts_min_severity` up, and
to the webhook; nothing below `min_severity`. An escalation of level N goes
to level N of the escalation chain (the last level when the chain is
shorter; the on-call engineers when there is none), and to the webhook.
"""

from __future__ import annotations

from sqlalchemy import Engine, Row

from checks.spec import SEVERITIES
from collector.config import CustomerConfig
from collector.notify import Notifier
from collector.notify.email_notifier import EmailNotifier
from collector.notify.webhook import WebhookNotifier


def at_least(severity: str, floor: str) -> bool:
    rank = {name: n for n, name in enumerate(SEVERITIES)}
    return rank.get(severity, len(SEVERITIES)) >= rank[floor]


def notifiers(engine: Engine, customer: CustomerConfig, incident: Row, kind: str, level: int) -> tuple[list[Notifier], str]:
    """The notifiers for this notice, or [] and why nobody is told."""
    if level:
        chain = customer.escalation
        addresses = list(chain[min(level, len(chain)) - 1]) if chain else list(customer.on_call)
    else:
        if not at_least(incident.severity, customer.min_severity):
            return [], f"severity {incident.severity} is below the customer's min_severity {customer.min_severity}"
        addresses = list(customer.on_call)
        if at_least(incident.severity, customer.contacts_min_severity):
            addresses += customer.contacts
    found: list[Notifier] = []
    if addresses:
        found.append(EmailNotifier(engine, addresses))
    if customer.webhook is not None:
        found.append(WebhookNotifier(engine, customer.webhook.get_secret_value(), customer.webhook_format))
    if not found:
        return [], f"no route: customer {incident.customer!r} has no on_call, contacts, escalation or webhook in the config"
    return found, ""
