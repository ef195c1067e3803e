"""Listens to everyhook's hook, which it may use when everyhook is there (an optional dependency)."""
from core import Manifest, hookimpl

manifest = Manifest(name="listener", title="Listener", version="1.0.0", summary="Hears of things added.",
                    optional_depends=("everyhook",), category="Testing")

HEARD: list[str] = []


@hookimpl
def everyhook_thing_added(thing, session):
    HEARD.append(thing.name)


@hookimpl
def everyhook_thing_removed(thing, session):
    """A hook everyhook does not offer (misspelt, or from a newer everyhook): never called."""
    HEARD.append("removed " + thing.name)
