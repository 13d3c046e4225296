"""`vigil`, the engineer's command line."""
