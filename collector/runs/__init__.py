"""Remote diagnosis at the collector: the run record, and dispatch to the agents."""
