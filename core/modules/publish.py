"""Publishing plugin wheels into a folder catalog: the ``index.json`` the marketplace reads."""
from __future__ import annotations

import configparser
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from core.errors import ModuleError
from core.i18n import gettext as _
from core.modules.marketplace import INDEX_NAME, CatalogEntry, load_catalog

#: Run in a separate interpreter, so importing the plugin leaves this process untouched.
_READ_MANIFEST = """
import dataclasses, importlib, json, sys
sys.path.insert(0, sys.argv[1])
manifest = importlib.import_module(sys.argv[2]).manifest
manifest.validate()
print(json.dumps(dataclasses.asdict(manifest)))
"""


def plugin_module_of(wheel: Path) -> str:
    """The module named by the wheel's ``kontor.plugins`` entry point."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
            text = archive.read(names[0]).decode() if names else ""
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModuleError(_("%(wheel)s is not a wheel: %(error)s", wheel=wheel.name, error=exc), field="wheel") from None
    parser = configparser.ConfigParser()
    parser.read_string(text)
    if not parser.has_section("kontor.plugins") or not parser.items("kontor.plugins"):
        raise ModuleError(_("%(wheel)s declares no kontor.plugins entry point.", wheel=wheel.name), field="wheel")
    return parser.items("kontor.plugins")[0][1].split(":")[0].strip()


def manifest_of(wheel: Path) -> dict:
    """The validated manifest of the plugin inside ``wheel``."""
    module = plugin_module_of(wheel)
    result = subprocess.run([sys.executable, "-c", _READ_MANIFEST, str(wheel), module],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["?"])[-1]
        raise ModuleError(_("The plugin in %(wheel)s cannot be loaded: %(reason)s", wheel=wheel.name, reason=reason),
                          field="wheel")
    return json.loads(result.stdout)


def publish(wheel: Path, folder: Path) -> CatalogEntry:
    """Copy ``wheel`` into the catalog ``folder`` and list it in ``index.json`` (replacing an
    older entry of the same module). Returns the new entry."""
    manifest = manifest_of(wheel)
    folder.mkdir(parents=True, exist_ok=True)
    if wheel.resolve() != (folder / wheel.name).resolve():
        shutil.copy(wheel, folder / wheel.name)
    entry = CatalogEntry(
        name=manifest["name"], title=manifest["title"], summary=manifest["summary"], version=manifest["version"],
        wheel=wheel.name, sha256=hashlib.sha256((folder / wheel.name).read_bytes()).hexdigest(),
        requires_core=manifest["requires_core"], depends=tuple(manifest["depends"]), author=manifest["author"],
        license=manifest["license"], category=manifest["category"],
    )
    others = [e for e in load_catalog(str(folder)) if e.name != entry.name] if (folder / INDEX_NAME).exists() else []
    entries = sorted([*others, entry], key=lambda e: e.name)
    index = {"modules": [e.as_dict() for e in entries]}
    (folder / INDEX_NAME).write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    return entry
