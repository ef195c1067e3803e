"""A plugin with a misspelled hook: it must be quarantined, not silently ignored."""
