"""SLA clocks: how long the response and the resolution plan took, in the customer's contract time.

`calendar` counts contract time (7×24, or business hours with holidays in a
time zone), `clocks` turns an incident's timeline into the response and
plan clocks, `escalation` sweeps the running ones and notifies the
escalation chain, `report` sums a period up for `vigil sla`.
"""
