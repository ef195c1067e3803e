"""One half of a dependency cycle."""
