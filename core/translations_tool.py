"""Maintain the message catalogs: ``python -m core.translations_tool extract|compile``.

``extract`` collects every translatable string of the core into ``core/translations/messages.pot``,
and each bundled plugin's own strings (those the core does not already have) into
``plugins/<name>/translations/messages.pot``, then updates each language's ``messages.po``;
``compile`` turns every ``.po`` into the ``.mo`` files Flask-Babel reads (it merges the core's
catalog with each active module's).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

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


def _extract_to(config: Path, pot: Path, project: str) -> None:
    pot.parent.mkdir(parents=True, exist_ok=True)
    _babel("extract", "-F", str(config), "-k", "lazy_gettext", "-k", "_l", "-k", "N_", "--no-location",
           "--project", project, "--version", __version__, "--sort-output", "-o", str(pot), str(ROOT))


def _update_languages(folder: Path) -> None:
    pot = folder / "messages.pot"
    for lang in LANGUAGES:
        if lang == "en":
            continue
        po = folder / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            _babel("update", "-i", str(pot), "-d", str(folder), "-l", lang, "--no-fuzzy-matching")
        else:
            _babel("init", "-i", str(pot), "-d", str(folder), "-l", lang)


def _drop_known(pot: Path, known: set[str]) -> None:
    """Leave out of ``pot`` the messages the core's catalog already translates."""
    with open(pot, "rb") as f:
        catalog = read_po(f)
    for message in list(catalog):
        if message.id and (message.id if isinstance(message.id, str) else message.id[0]) in known:
            catalog.delete(message.id)
    with open(pot, "wb") as f:
        write_po(f, catalog, sort_output=True, omit_header=False)


def plugin_folders() -> list[Path]:
    """The bundled plugins' packages (``plugins/<name>/`` with a ``plugin.py``)."""
    return sorted(p.parent for p in (ROOT / "plugins").glob("*/plugin.py"))


def extract() -> None:
    """Refresh the templates and every language's catalog, the core's and each bundled plugin's."""
    core_pot = CORE_CATALOGS / "messages.pot"
    _extract_to(ROOT / "babel.cfg", core_pot, "Kontor")
    _update_languages(CORE_CATALOGS)
    with open(core_pot, "rb") as f:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    for package in plugin_folders():
        relative = package.relative_to(ROOT)
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as config:
            config.write(f"[python: {relative}/**.py]\n[jinja2: {relative}/templates/**.html]\n"
                         "extensions = jinja2.ext.do\n")
        folder = package / "translations"
        try:
            _extract_to(Path(config.name), folder / "messages.pot", f"Kontor {package.name}")
        finally:
            Path(config.name).unlink()
        _drop_known(folder / "messages.pot", known)
        _update_languages(folder)


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
