"""Mail for the whole collector: a durable outbox, and one deliverer that sends it over SMTP.

Incident notifications, SLA escalations and inspection reports all go the
same way: `outbox.enqueue(engine, key, …)` stores the message in the
database under a key that is never accepted twice, and the `Deliverer`
thread sends what is due, per recipient, with backoff. A message is
therefore never sent twice for one key, even across restarts, and nothing
queued is lost when the collector or the mail server is down.

    from collector.mail import outbox, Attachment
    outbox.enqueue(engine, "report:acme:2026-11", ["it@acme.cn"], "巡检报告", html, text,
                   [Attachment("巡检报告.pdf", "application/pdf", pdf)])
"""

from collector.mail import outbox
from collector.mail.message import Attachment

__all__ = ["Attachment", "outbox"]
