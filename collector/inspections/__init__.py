"""Periodic inspections (巡检): every device of a customer judged over a period, on schedule or on demand.

    period.py     the period: calendar months/weeks/days in the customer's zone
    data.py       what is read: devices, series, hourly rollups (numpy), events, incidents
    evaluate.py   every applicable check over the period (peaks, p95, time above, states, restarts …)
    devices.py    identity, availability, trend lines, capacity outlook
    forecast.py   the filesystem forecast replayed over the period; least-squares outlooks
    build.py      one inspection (all devices, the SLA figures) → model.Inspection
    job.py        one run: claim, inspect, store, render (collector/reports), write files, queue the mail
    schedule.py   cron schedules per customer, exactly once per due time
    store.py      inspections and reports in the database
    mailing.py    the report's mail (collector/mail's outbox)
    diagnosis.py  the live-diagnosis hook (playbook runs)
"""
