"""A module whose migration creates a table in another module's prefix."""
