"""The alpha area of twoareas: its permission, and what it does when another module arrives."""
