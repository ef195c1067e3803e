"""Every hook: a fixture plugin that implements each hook of the core, for the hook tests.

Each hookimpl contributes something small and visible (a page, a menu entry, a dashboard widget,
a panel and an action on the party page, a table with a migration, demo and default rows), so a
test can show that the core really calls the hook and wires what it returns.
"""
