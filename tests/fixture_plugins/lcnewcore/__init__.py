"""Wants a core from the future."""
