"""Kontor's bundled business modules.

Each is a plugin in its own folder (``plugins/<name>/``), found through the ``kontor.plugins``
entry point group exactly as a third-party plugin is, and installed, disabled, purged or upgraded
by the administrator like any other module.
"""
