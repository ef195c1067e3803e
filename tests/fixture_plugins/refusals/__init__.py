"""Refusals: a module whose page and endpoint raise each typed error after writing a party, for the error tests."""
