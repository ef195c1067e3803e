from core import Manifest, hookimpl

manifest = Manifest(name="typo_hook", title="Typo", version="1.0", summary="Misspells a hook.")


@hookimpl
def register_blueprint():  # the hook is register_blueprints
    return []
