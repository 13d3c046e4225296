"""Contract version 1: `vigil.v1`."""
