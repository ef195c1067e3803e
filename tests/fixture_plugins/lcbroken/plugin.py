"""Imports a module that does not exist, so it is quarantined."""
import lcbroken_no_such_module  # noqa: F401
