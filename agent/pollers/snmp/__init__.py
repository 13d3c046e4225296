"""SNMP: the poller (`poller.py`), its client, profiles, extractor, trap receiver and probe.

Kept empty so that importing a light part (the probe's arguments, the
profiles in the config child) does not import pysnmp.
"""
