"""The collector's check engine: evaluates the `checks/` library against stored points as they arrive."""
