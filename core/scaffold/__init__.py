"""``kontor plugin new NAME``: write a new module's package in the one documented shape.

The files come from ``core/scaffold/templates/`` (each ``*.tmpl`` filled in with
:class:`string.Template`; ``_package_`` and ``_name_`` in a path are replaced by the package and
the module's name). What is written installs as it is, passes the plugin contract and its own
tests, and purges cleanly: ``tests/core/test_scaffold.py`` proves it.
"""
from __future__ import annotations

import string
from pathlib import Path

from core.plugins import Manifest, ManifestError

TEMPLATES = Path(__file__).parent / "templates"


class ScaffoldError(ValueError):
    """The module cannot be written (a wrong name, a folder that is not empty)."""


def names(name: str, title: str | None = None) -> dict[str, str]:
    """What the templates are filled with: the module's ``name``, ``package``, ``dist`` and ``title``.

    Raises :class:`ScaffoldError` when ``name`` cannot be a module's name.
    """
    title = (title or name.replace("_", " ").capitalize()).strip()
    try:
        Manifest(name=name, title=title or name, version="0.1.0", summary="-").validate()
    except ManifestError as exc:
        raise ScaffoldError(str(exc)) from None
    return {"name": name, "package": f"kontor_{name}", "dist": f"kontor-{name.replace('_', '-')}", "title": title}


def scaffold(name: str, into: Path | None = None, *, title: str | None = None) -> Path:
    """Write module ``name``'s distribution into ``into`` (default ``./kontor-NAME``); returns the folder.

    The folder must not exist yet or be empty: nothing is overwritten.
    """
    values = names(name, title)
    target = Path(into) if into is not None else Path.cwd() / values["dist"]
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} exists and is not an empty folder")
    files = sorted(path for path in TEMPLATES.rglob("*.tmpl") if path.is_file())
    for source in files:
        relative = str(source.relative_to(TEMPLATES))[: -len(".tmpl")]
        relative = relative.replace("_package_", values["package"]).replace("_name_", values["name"])
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(string.Template(source.read_text(encoding="utf-8")).substitute(values),
                               encoding="utf-8")
    write_catalog_template(target / values["package"], values["title"])
    return target


def write_catalog_template(package: Path, title: str) -> Path:
    """Extract the translatable strings of ``package`` (code and templates) into ``translations/messages.pot``."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import write_po

    catalog = Catalog(project=f"Kontor {title}", version="0.1.0", charset="utf-8")
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}
    for filename, lineno, message, comments, context in extract_from_dir(
            str(package), method_map, {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}, keywords=keywords):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    pot = package / "translations" / "messages.pot"
    pot.parent.mkdir(parents=True, exist_ok=True)
    with pot.open("wb") as out:
        write_po(out, catalog, omit_header=False, include_lineno=False)
    return pot
