"""Maintain the message catalogs: ``python -m core.translations_tool extract|compile``.

``extract`` collects every translatable string of the core into ``core/translations/messages.pot``
and updates each language's ``messages.po``; ``compile`` turns every ``.po`` of the core and the
bundled plugins into the ``.mo`` files Flask-Babel reads.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from core.config import LANGUAGES
from core.version import __version__

ROOT = Path(__file__).resolve().parent.parent
CORE_CATALOGS = ROOT / "core" / "translations"


def catalog_folders() -> list[Path]:
    """Every translations folder: the core's and each bundled plugin's."""
    folders = [CORE_CATALOGS]
    folders += sorted(p for p in (ROOT / "plugins").glob("*/translations") if p.is_dir())
    return folders


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> None:
    """Refresh the template and every language's catalog from the source."""
    pot = CORE_CATALOGS / "messages.pot"
    CORE_CATALOGS.mkdir(parents=True, exist_ok=True)
    _babel("extract", "-F", str(ROOT / "babel.cfg"), "-k", "lazy_gettext", "-k", "_l", "--no-location",
           "--project", "Kontor", "--version", __version__,
           "--sort-output", "-o", str(pot), str(ROOT))
    for lang in LANGUAGES:
        if lang == "en":
            continue
        po = CORE_CATALOGS / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            _babel("update", "-i", str(pot), "-d", str(CORE_CATALOGS), "-l", lang, "--no-fuzzy-matching")
        else:
            _babel("init", "-i", str(pot), "-d", str(CORE_CATALOGS), "-l", lang)


def compile_all() -> None:
    """Compile every catalog to ``.mo`` (fuzzy entries are left out)."""
    for folder in catalog_folders():
        if any(folder.glob("*/LC_MESSAGES/*.po")):
            _babel("compile", "-d", str(folder))


def main(argv: list[str]) -> int:
    commands = {"extract": extract, "compile": compile_all}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m core.translations_tool extract|compile", file=sys.stderr)
        return 2
    commands[argv[0]]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
