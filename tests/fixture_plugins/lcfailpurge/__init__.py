"""A module whose downgrade fails half-way, so its purge must roll back."""
