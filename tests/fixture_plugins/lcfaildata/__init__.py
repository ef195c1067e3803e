"""A module whose default data fails to load."""
