"""The report mailed to the customer: a short HTML summary in the body, the PDF attached, in the customer's language.

The mail goes through the collector's outbox (collector/mail) under the key
`inspection:<id>`: the outbox accepts a key once, ever, so a run resumed
after a crash, or retried, never mails the customer twice. Delivery, retries
with backoff and the per-recipient log are the outbox's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from collector.inspections.model import Inspection
from collector.reports import charts
from collector.reports.render import environment
from collector.reports.view import View


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    html: str
    text: str


def key_of(inspection_id: int) -> str:
    return f"inspection:{inspection_id}"


def compose(inspection: Inspection, lang: str) -> Mail:
    view = View(inspection, lang)
    context = view.context(with_charts=False)
    w = view.w
    period = f"{inspection.period_label}"
    subject = w("mail_subject", customer=inspection.display_name, period=period, number=inspection.number)
    intro = w("mail_intro", customer=inspection.display_name, period=context["period"], number=inspection.number)
    values = {
        "lang": lang, "w": w, "subject": subject, "title": w("report_title"), "customer": inspection.display_name,
        "provider": inspection.provider, "period": context["period"], "number": inspection.number,
        "greeting": w("mail_greeting"), "intro": intro, "kpis": context["kpis"], "score": context["score"],
        "score_band": context["score_band"], "risks": context["top_risks"][:5], "colors": charts.SEVERITY_COLORS,
        "compliance": context["service"]["compliance"], "outro": w("mail_outro"),
        "signature": w("mail_signature", provider=inspection.provider),
    }
    html = environment().get_template("mail.html.j2").render(**values)
    lines = [w("mail_greeting"), "", intro, ""]
    lines += [f"  {label}: {value}" for label, value, _ in context["kpis"]]
    lines += ["", f"{w('health_score')}: {context['score']}", "", w("top_risks") + ":"]
    lines += [f"  [{r['severity_text']}] {r['device']} · {r['title']}" + (f" · {r['instance']}" if r["instance"] else "")
              for r in context["top_risks"][:5]] or [f"  {w('no_risks')}"]
    lines += ["", w("mail_outro"), "", w("mail_signature", provider=inspection.provider)]
    return Mail(subject, html, "\n".join(lines))


def attachment_name(inspection: Inspection, lang: str) -> str:
    stem = "巡检报告" if lang == "zh" else "inspection-report"
    customer = re.sub(r'[\\/:*?"<>|\s]+', "-", inspection.display_name).strip("-")
    return f"{stem}-{customer}-{inspection.period_label}-{inspection.number}.pdf"


def enqueue(engine: Engine, inspection_id: int, inspection: Inspection, pdfs: Mapping[str, bytes],
            recipients: Sequence[str]) -> tuple[str, bool]:
    """Queue the mail (first language's text, every language's PDF); (key, False) if it was queued before."""
    from collector.mail import Attachment, outbox

    if not recipients:
        raise ValueError(f"customer {inspection.customer!r} has no one to mail the report to: set customers.<name>.contacts "
                         "(or inspections.customers[].recipients) in the collector config")
    lang = next(iter(pdfs))
    mail = compose(inspection, lang)
    attachments = [Attachment(attachment_name(inspection, code), "application/pdf", data) for code, data in pdfs.items()]
    key = key_of(inspection_id)
    return key, outbox.enqueue(engine, key, list(recipients), mail.subject, mail.html, mail.text, attachments)
