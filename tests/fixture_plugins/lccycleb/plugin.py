"""The other half of a dependency cycle."""
from core import Manifest

manifest = Manifest(
    name="lccycleb",
    title="lccycleb",
    version="1.0.0",
    summary="The other half of a dependency cycle.",
    depends=("lccyclea",),
    category="Testing",
)
