"""One half of a dependency cycle."""
from core import Manifest

manifest = Manifest(
    name="lccyclea",
    title="lccyclea",
    version="1.0.0",
    summary="One half of a dependency cycle.",
    depends=("lccycleb",),
    category="Testing",
)
