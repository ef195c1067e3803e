"""Depends on a module that does not exist."""
