"""Wants a version of lcbase that is not here."""
from core import Manifest

manifest = Manifest(
    name="lcrange",
    title="lcrange",
    version="1.0.0",
    summary="Wants a version of lcbase that is not here.",
    depends=("lcbase>=2",),
    category="Testing",
)
