"""Lifecycle dependant: notes on lcbase's items, for the dependency tests."""
