"""A module that stays in its namespace and gives its own role a permission of the core."""
