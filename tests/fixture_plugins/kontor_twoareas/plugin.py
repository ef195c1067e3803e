"""The manifest of twoareas: its hooks are in its areas, ``alpha/plugin.py`` and ``beta/plugin.py``."""
from core import Manifest

manifest = Manifest(
    name="twoareas",
    title="Two areas",
    version="1.0.0",
    summary="A module made of two areas, for the tests.",
    requires_core=">=0.1",
    author="Kontor",
    license="AGPL-3.0-or-later",
    category="Testing",
    areas=("alpha", "beta"),
)
