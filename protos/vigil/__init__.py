"""Vigil protocol package `vigil`."""
