"""A plugin whose manifest is invalid."""
