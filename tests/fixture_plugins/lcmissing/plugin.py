"""Depends on a module that does not exist."""
from core import Manifest

manifest = Manifest(
    name="lcmissing",
    title="lcmissing",
    version="1.0.0",
    summary="Depends on a module that does not exist.",
    depends=("lcnowhere",),
    category="Testing",
)
