"""Wants a core from the future."""
from core import Manifest

manifest = Manifest(
    name="lcnewcore",
    title="lcnewcore",
    version="1.0.0",
    summary="Wants a core from the future.",
    requires_core=">=99",
    category="Testing",
)
