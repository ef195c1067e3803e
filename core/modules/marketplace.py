"""The marketplace: a catalog of third-party modules, and installing one from it.

The catalog is a JSON index, ``index.json``, in a folder or at an http(s) URL (``KONTOR_MARKETPLACE``)::

    {"modules": [{"name": "hello", "title": "Hello", "summary": "…", "version": "1.0.0",
                  "requires_core": ">=0.1,<1", "depends": [], "author": "…", "license": "MIT",
                  "wheel": "kontor_hello-1.0.0-py3-none-any.whl", "sha256": "…"}]}

``wheel`` is relative to the index or an absolute URL. Installing a module from the catalog
downloads its wheel (and those of catalog modules it depends on that are not here yet), verifies
every checksum and the compatibility with this core, pip-installs the wheels into the running
environment, finds the new plugins and installs the modules through the lifecycle service.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from core.app import get_discovery
from core.errors import ModuleError
from core.i18n import gettext as _
from core.modules import lifecycle
from core.plugins import NAME_PATTERN
from core.version import __version__ as CORE_VERSION

INDEX_NAME = "index.json"
URL_SCHEMES = ("http", "https", "file")
TIMEOUT_SECONDS = 30
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class CatalogError(ModuleError):
    """The catalog cannot be read, or it is not a valid index."""

    status = 502


@dataclass(frozen=True)
class CatalogEntry:
    """A module offered by the marketplace."""

    name: str
    title: str
    summary: str
    version: str
    wheel: str
    sha256: str
    requires_core: str = ">=0.1"
    depends: tuple[str, ...] = ()
    author: str = ""
    license: str = ""
    category: str = "Other"

    @property
    def wheel_filename(self) -> str:
        """The file name of the wheel (pip needs the wheel's own name)."""
        return urllib.parse.urlsplit(self.wheel).path.rsplit("/", 1)[-1]

    def requirements(self) -> list[Requirement]:
        """The parsed ``depends``."""
        return [Requirement(text) for text in self.depends]

    def as_dict(self) -> dict:
        """The entry as the API shows it."""
        return {field: (list(value) if isinstance(value, tuple) else value) for field, value in vars(self).items()}


def is_url(location: str) -> bool:
    """Whether ``location`` is a URL rather than a folder."""
    return urllib.parse.urlsplit(location).scheme in URL_SCHEMES


def index_location(location: str) -> str:
    """Where the index of the catalog at ``location`` is (a URL or a file path)."""
    if not location:
        raise ModuleError(_("No marketplace is configured (set KONTOR_MARKETPLACE)."))
    if is_url(location):
        return location if location.endswith(".json") else location.rstrip("/") + "/" + INDEX_NAME
    path = Path(location)
    return str(path if path.suffix == ".json" else path / INDEX_NAME)


def _read(location: str) -> bytes:
    if is_url(location):
        with urllib.request.urlopen(location, timeout=TIMEOUT_SECONDS) as response:
            return response.read()
    return Path(location).read_bytes()


def load_catalog(location: str) -> list[CatalogEntry]:
    """The validated entries of the catalog at ``location`` (a folder or an http(s) URL).

    Raises :class:`CatalogError` naming the entry and field at fault.
    """
    index = index_location(location)
    try:
        data = json.loads(_read(index))
    except (OSError, urllib.error.URLError) as exc:
        raise CatalogError(_("The marketplace index %(index)s cannot be read: %(error)s", index=index,
                             error=exc)) from None
    except ValueError as exc:
        raise CatalogError(_("The marketplace index %(index)s is not JSON: %(error)s", index=index,
                             error=exc)) from None
    modules = data.get("modules") if isinstance(data, dict) else None
    if not isinstance(modules, list):
        raise CatalogError(_("The marketplace index %(index)s has no list of modules.", index=index))
    entries: list[CatalogEntry] = []
    for position, raw in enumerate(modules, start=1):
        entry = _entry(raw, position)
        if any(e.name == entry.name for e in entries):
            raise CatalogError(_("The marketplace lists the module %(name)s twice.", name=entry.name))
        entries.append(entry)
    return entries


def _entry(raw, position: int) -> CatalogEntry:
    """One validated entry of the index (``position`` counts from 1, for messages)."""
    label = str(raw.get("name")) if isinstance(raw, dict) and raw.get("name") else f"#{position}"

    def wrong(field: str, problem: str) -> CatalogError:
        return CatalogError(_("Marketplace entry %(entry)s: %(field)s %(problem)s", entry=label, field=field,
                              problem=problem))

    if not isinstance(raw, dict):
        raise wrong("entry", _("must be an object"))
    values = {}
    for field in ("name", "title", "summary", "version", "wheel", "sha256"):
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            raise wrong(field, _("is required (text)"))
        values[field] = value.strip()
    for field in ("requires_core", "author", "license", "category"):
        value = raw.get(field, CatalogEntry.__dataclass_fields__[field].default)
        if not isinstance(value, str):
            raise wrong(field, _("must be text"))
        values[field] = value.strip()
    if not NAME_PATTERN.match(values["name"]):
        raise wrong("name", _("must be lower-case letters, digits and _"))
    try:
        Version(values["version"])
    except InvalidVersion:
        raise wrong("version", _("is not a version number")) from None
    try:
        SpecifierSet(values["requires_core"])
    except InvalidSpecifier:
        raise wrong("requires_core", _("is not a version range")) from None
    values["sha256"] = values["sha256"].lower()
    if not SHA256_PATTERN.match(values["sha256"]):
        raise wrong("sha256", _("must be 64 hexadecimal characters"))
    depends = raw.get("depends", [])
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise wrong("depends", _("must be a list of requirements"))
    try:
        [Requirement(d) for d in depends]
    except InvalidRequirement:
        raise wrong("depends", _("holds something that is not a requirement")) from None
    entry = CatalogEntry(depends=tuple(depends), **values)
    try:
        wheel_version = parse_wheel_filename(entry.wheel_filename)[1]
    except InvalidWheelFilename:
        raise wrong("wheel", _("must name a wheel file (*.whl)")) from None
    if wheel_version != Version(entry.version):
        raise wrong("wheel", _("holds version %(found)s, not %(version)s", found=wheel_version, version=entry.version))
    return entry


def find_entry(catalog: list[CatalogEntry], name: str) -> CatalogEntry:
    """The entry called ``name``; :class:`~core.errors.ModuleError` naming it when there is none."""
    for entry in catalog:
        if entry.name == name:
            return entry
    raise ModuleError(_("The marketplace has no module called %(name)s.", name=name), field="name", status=404)


def wheel_location(entry: CatalogEntry, location: str) -> str:
    """Where ``entry``'s wheel is: an absolute URL, or resolved against the index."""
    if is_url(entry.wheel):
        return entry.wheel
    index = index_location(location)
    if is_url(index):
        return urllib.parse.urljoin(index, entry.wheel)
    return str(Path(index).parent / entry.wheel)


def fetch_wheel(entry: CatalogEntry, location: str, dest: Path) -> Path:
    """Download ``entry``'s wheel into the folder ``dest`` and verify its sha256.

    A file whose checksum differs is deleted and :class:`~core.errors.ModuleError` raised.
    """
    source = wheel_location(entry, location)
    target = Path(dest) / entry.wheel_filename
    digest = hashlib.sha256()
    try:
        with _open_stream(source) as stream, target.open("wb") as out:
            for chunk in iter(lambda: stream.read(1 << 16), b""):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, urllib.error.URLError) as exc:
        target.unlink(missing_ok=True)
        raise CatalogError(_("The wheel of %(name)s cannot be downloaded from %(source)s: %(error)s",
                             name=entry.name, source=source, error=exc)) from None
    if digest.hexdigest() != entry.sha256:
        target.unlink(missing_ok=True)
        raise ModuleError(_("The wheel of %(name)s does not match its checksum (expected %(expected)s, got "
                            "%(found)s); nothing was installed.", name=entry.name, expected=entry.sha256,
                            found=digest.hexdigest()), field="name")
    return target


def _open_stream(source: str):
    if is_url(source):
        return urllib.request.urlopen(source, timeout=TIMEOUT_SECONDS)
    return open(source, "rb")


def check_compatible(entry: CatalogEntry, available: set[str]) -> None:
    """Refuse ``entry`` unless it accepts this core and every module it depends on is in ``available``.

    ``available`` holds the names of the modules in the catalog and those whose code is here.
    """
    if not SpecifierSet(entry.requires_core).contains(CORE_VERSION, prereleases=True):
        raise ModuleError(_("%(name)s needs core %(range)s; this is core %(version)s.", name=entry.name,
                            range=entry.requires_core, version=CORE_VERSION), field="name")
    for req in entry.requirements():
        if req.name not in available:
            raise ModuleError(_("%(name)s depends on %(dependency)s, which is neither installed nor in the "
                                "marketplace.", name=entry.name, dependency=req.name), field="name")


def wheels_needed(entry: CatalogEntry, catalog: list[CatalogEntry], present: set[str]) -> list[CatalogEntry]:
    """``entry`` and the catalog modules it depends on whose code is not ``present``, dependencies first."""
    by_name = {e.name: e for e in catalog}
    order: list[CatalogEntry] = []

    def visit(current: CatalogEntry, path: tuple[str, ...]) -> None:
        if current.name in path:
            raise ModuleError(_("The marketplace modules form a dependency cycle: %(cycle)s",
                                cycle=" -> ".join(path + (current.name,))), field="name")
        check_compatible(current, set(by_name) | present)
        for req in current.requirements():
            if req.name not in present and req.name in by_name:
                visit(by_name[req.name], path + (current.name,))
        if current.name not in present and current not in order:
            order.append(current)

    visit(entry, ())
    return order


def pip_install(wheel_path: Path) -> None:
    """Install ``wheel_path`` into the running environment (no dependencies, no index)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-input",
         "--disable-pip-version-check", str(wheel_path)],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ModuleError(_("pip could not install %(wheel)s: %(output)s", wheel=Path(wheel_path).name,
                            output=" ".join(output)))


def download_and_install(entries: list[CatalogEntry], location: str, workdir: Path) -> None:
    """Fetch and verify every wheel of ``entries`` first, then pip-install them in order.

    A checksum mismatch on any wheel stops before anything is installed.
    """
    Path(workdir).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="wheels-", dir=workdir))
    try:
        wheels = [fetch_wheel(entry, location, folder) for entry in entries]
        for wheel in wheels:
            pip_install(wheel)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    importlib.invalidate_caches()


def install_from_marketplace(ctx, name: str, location: str) -> list[str]:
    """Install module ``name`` from the catalog at ``location``; the names installed, dependencies first.

    Downloads and verifies the wheels of ``name`` and of the catalog modules it needs whose code is
    not here yet, pip-installs them, finds the new plugins, then installs the modules through
    :func:`core.modules.lifecycle.install` (all or nothing in the database).
    """
    catalog = load_catalog(location)
    entry = find_entry(catalog, name)
    present = set(get_discovery(ctx.extra_plugins, refresh=True).plugins)
    needed = wheels_needed(entry, catalog, present)
    if needed:
        download_and_install(needed, location, Path(ctx.instance_path) / "marketplace")
        discovery = get_discovery(ctx.extra_plugins, refresh=True)
        for missing in (e.name for e in needed if e.name not in discovery.plugins):
            reason = discovery.quarantined.get(missing)
            raise ModuleError(_("The wheel of %(name)s was installed, but the module cannot be loaded: %(reason)s",
                                name=missing, reason=reason.error if reason else _("no kontor.plugins entry point")),
                              field="name")
        ctx = lifecycle.refreshed(ctx, discovery)
    return lifecycle.install(ctx, [name])


def install_from_app(app, name: str) -> list[str]:
    """:func:`install_from_marketplace` with the catalog and modules of ``app``."""
    return install_from_marketplace(lifecycle.context_from_app(app), name, app.config["MARKETPLACE"])
