"""The Vigil collector: the provider's central service the agents stream to."""

__version__ = "0.1.0"
