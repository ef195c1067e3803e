"""Hello: greetings in six languages.

An example of a Kontor module written as an outside author would write it: its own table and
migration branch, default data, permissions, a page, JSON endpoints, a menu item, a dashboard
widget, a panel on the party page and a command, all through the public API of ``core``.
"""
