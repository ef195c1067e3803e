"""Its version is not a version number, so it is quarantined."""
from core import Manifest

manifest = Manifest(name="lcbadmanifest", title="Bad manifest", version="one point oh", summary="Invalid.")
