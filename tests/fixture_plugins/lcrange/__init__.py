"""Wants a version of lcbase that is not here."""
