"""Lifecycle base: a small module with exact amounts, two revisions and a veto, for the lifecycle tests."""
