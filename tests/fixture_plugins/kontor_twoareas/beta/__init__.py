"""The beta area of twoareas: its page, an action on party pages, and its part in a purge."""
