"""A plugin that adds a panel and an action to the page of every kind of record (for the tests)."""
