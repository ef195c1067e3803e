"""A module whose migration fails half-way, after creating a table."""
