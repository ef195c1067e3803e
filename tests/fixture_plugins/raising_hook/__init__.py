"""A plugin whose registration hook raises: it is left out of the app, which still starts."""
