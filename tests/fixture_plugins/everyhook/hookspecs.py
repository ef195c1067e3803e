"""The hooks ``everyhook`` offers to other plugins."""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")


@hookspec
def everyhook_thing_added(thing, session):
    """Called when a thing is added; return nothing."""
