from core import Manifest, MenuItem, hookimpl

manifest = Manifest(name="raising_hook", title="Raising", version="1.0", summary="Fails while registering.")


@hookimpl
def register_menu_items():
    return [MenuItem("main", "Never shown", "web.dashboard", "@signed-in")]


@hookimpl
def register_blueprints():
    raise RuntimeError("cannot build my pages")
