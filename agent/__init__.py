"""The Vigil site agent: polls a customer's equipment and streams it to the collector."""

__version__ = "0.1.0"
