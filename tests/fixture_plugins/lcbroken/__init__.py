"""A plugin that fails to import."""
