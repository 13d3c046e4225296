"""The library of inspection checks: one small module per check, registered by name.

Empty in the walking skeleton; the checks-and-incidents work fills it. Checks
subscribe to `collector.ingest.Ingest.listeners`, which sees every batch right
after its commit, in order per agent.
"""
