"""Incidents: opened by the check engine, worked by engineers (ack, plan, resolve), measured by the SLA clocks."""
