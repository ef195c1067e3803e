"""Finding plugins, validating their manifests, and building the plugin manager of an app."""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import keyword
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pluggy
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

import core.hookspecs as hookspecs
from core.routing import RecordIdConverter
from core.version import __version__ as CORE_VERSION

ENTRY_POINT_GROUP = "kontor.plugins"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")

hookimpl = pluggy.HookimplMarker("kontor")

#: Parts of the core that are written as plugins and always active, in this order.
BUILTIN_PLUGINS = (
    "core.web.plugin",
    "core.auth.plugin",
    "core.parties.plugin",
    "core.company.plugin",
    "core.audit.plugin",
    "core.attachments.plugin",
    "core.rules.plugin",
    "core.mail.plugin",
    "core.notifications.plugin",
    "core.approvals.plugin",
    "core.modules.plugin",
    "core.api.plugin",
    "core.jobs.plugin",
    "core.exports.plugin",
)


class ManifestError(ValueError):
    """A plugin's manifest is missing or malformed."""


@dataclass(frozen=True)
class Manifest:
    """What a plugin declares about itself in ``plugin.py`` as ``manifest = Manifest(...)``.

    ``depends`` and ``optional_depends`` hold requirement strings such as ``"accounting>=0.2"``.
    ``requires_core`` is a version range the core's version must satisfy. ``areas`` names the
    sub-packages of a large module's package whose ``plugin.py`` each hold some of the module's
    hooks (``areas=("ledger", "tax")``: ``<package>/ledger/plugin.py``, …); a small module has none.
    """

    name: str
    title: str
    version: str
    summary: str
    depends: tuple[str, ...] = ()
    optional_depends: tuple[str, ...] = ()
    requires_core: str = ">=0.1"
    author: str = ""
    license: str = ""
    category: str = "Other"
    areas: tuple[str, ...] = ()

    def validate(self) -> None:
        """Raise :class:`ManifestError` naming the first field that is wrong."""
        if not NAME_PATTERN.match(self.name or ""):
            raise ManifestError(f"name {self.name!r} must be lower-case letters, digits and _")
        if self.name == "core":
            raise ManifestError("name 'core' is reserved")
        for field_name in ("title", "summary"):
            if not str(getattr(self, field_name) or "").strip():
                raise ManifestError(f"{field_name} is required")
        try:
            Version(self.version)
        except InvalidVersion:
            raise ManifestError(f"version {self.version!r} is not a version number") from None
        try:
            SpecifierSet(self.requires_core)
        except InvalidSpecifier:
            raise ManifestError(f"requires_core {self.requires_core!r} is not a version range") from None
        for field_name in ("depends", "optional_depends"):
            value = getattr(self, field_name)
            if isinstance(value, str):
                raise ManifestError(f"{field_name} must be a list of requirements, not a string")
            for text in value:
                try:
                    req = Requirement(text)
                except InvalidRequirement:
                    raise ManifestError(f"{field_name}: {text!r} is not a requirement") from None
                if req.name == self.name:
                    raise ManifestError(f"{field_name}: a module cannot depend on itself")
        if isinstance(self.areas, str):
            raise ManifestError("areas must be a list of names, not a string")
        for area in self.areas:
            if not isinstance(area, str) or not area.isidentifier() or keyword.iskeyword(area):
                raise ManifestError(f"areas: {area!r} is not the name of a sub-package")
        repeated = sorted({area for area in self.areas if list(self.areas).count(area) > 1})
        if repeated:
            raise ManifestError(f"areas: {', '.join(repeated)} is named more than once")

    def requirements(self, optional: bool = False) -> list[Requirement]:
        """The parsed ``depends`` (or ``optional_depends``)."""
        return [Requirement(r) for r in (self.optional_depends if optional else self.depends)]

    def core_compatible(self, core_version: str = CORE_VERSION) -> bool:
        """Whether this plugin accepts the running core's version."""
        return SpecifierSet(self.requires_core).contains(core_version, prereleases=True)


@dataclass
class PluginInfo:
    """A plugin found and validated: its manifest, the module holding its hooks, and its parts.

    ``parts`` are the modules holding its hooks: ``module`` (its ``plugin.py``) first, then the
    ``plugin.py`` of each of its areas, in the manifest's order. Each is registered with pluggy on
    its own (see :meth:`part_names`), but always all together: a module is one unit.
    """

    manifest: Manifest
    module: ModuleType
    source: str  # the distribution it comes from, or "config"
    parts: tuple[ModuleType, ...] = ()

    def __post_init__(self) -> None:
        if not self.parts:
            self.parts = (self.module,)

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def package_path(self) -> Path:
        return Path(self.module.__file__).parent

    @property
    def package(self) -> str:
        """The import name of the package holding ``plugin.py`` (empty for a module on its own)."""
        return self.module.__name__.rpartition(".")[0]

    @property
    def packages(self) -> list[str]:
        """The module's package, then each area's: where its models, schemas and templates are."""
        return [self.package, *(f"{self.package}.{area}" for area in self.manifest.areas)]

    def part_names(self) -> list[str]:
        """The names its parts are registered under: the module's name, then ``<module>.<area>``.

        pluggy's ``plugin_name`` of a hook implementation so tells which area it came from.
        """
        return [self.name, *(f"{self.name}.{area}" for area in self.manifest.areas)]


@dataclass
class Quarantined:
    """A plugin that failed to import, validate or register, and why."""

    name: str
    source: str
    error: str
    details: str = ""


@dataclass
class Discovery:
    """The result of scanning for plugins."""

    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    quarantined: dict[str, Quarantined] = field(default_factory=dict)


def offered_by_others(manifest: Manifest) -> tuple[str, ...]:
    """The hook name prefixes of the modules ``manifest`` depends on (``"accounting_"``, …).

    A plugin may implement the hooks its dependencies offer (``accounting_invoice_posted``);
    those are checked against their specs when the dependency is active, and simply not called
    while an optional dependency is absent.
    """
    names = [r.name for r in (*manifest.requirements(), *manifest.requirements(optional=True))]
    return tuple(f"{name}_" for name in names)


def module_of_part(plugin_name: str) -> str:
    """The module that the part registered as ``plugin_name`` belongs to (``"accounting"`` for
    ``"accounting.ledger"``); a built-in part of the core keeps its own name."""
    if plugin_name in BUILTIN_PLUGINS:
        return plugin_name
    return plugin_name.partition(".")[0]


def _described(plugin_name: str) -> str:
    module = module_of_part(plugin_name)
    if module == plugin_name:
        return f"plugin {plugin_name!r}"
    return f"area {plugin_name.partition('.')[2]!r} of plugin {module!r}"


def check_pending(pm: pluggy.PluginManager, prefixes_of: dict[str, tuple[str, ...]]) -> None:
    """Refuse an implementation of a hook nobody specifies (a misspelt hook name).

    Unlike pluggy's own check, an implementation of a hook whose name starts with a prefix in
    ``prefixes_of[module name]`` (a hook of a module the plugin depends on) is allowed unspecified,
    in every area of that module. The error names the area of a misspelt hook.
    """
    for name in pm.hook.__dict__:
        if name[0] == "_":
            continue
        caller = getattr(pm.hook, name)
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            prefixes = prefixes_of.get(module_of_part(impl.plugin_name), ())
            if impl.optionalhook or name.startswith(prefixes or ("\0",)):
                continue
            raise pluggy.PluginValidationError(impl.plugin, f"unknown hook {name!r} in {_described(impl.plugin_name)}")


def add_hookspecs(pm: pluggy.PluginManager, info: PluginInfo) -> None:
    """Add the hookspecs that ``info`` offers to others (from any of its parts' ``register_hookspecs``)."""
    for part in info.parts:
        extra = getattr(part, "register_hookspecs", None)
        specs = extra() if extra is not None else None
        if specs is not None:
            pm.add_hookspecs(specs)


def register(pm: pluggy.PluginManager, info: PluginInfo) -> None:
    """Register every part of ``info`` with ``pm``, or none: when one part fails, the parts
    registered before it are taken out again and the error is raised."""
    done: list[ModuleType] = []
    try:
        for name, part in zip(info.part_names(), info.parts):
            pm.register(part, name=name)
            done.append(part)
    except Exception:
        for part in done:
            pm.unregister(part)
        raise


def unregister(pm: pluggy.PluginManager, info: PluginInfo) -> None:
    """Take every part of ``info`` out of ``pm`` (those registered)."""
    for part in info.parts:
        if pm.is_registered(part):
            pm.unregister(part)


def _check_hooks(info: PluginInfo) -> None:
    pm = new_manager()
    add_hookspecs(pm, info)
    register(pm, info)
    check_pending(pm, {info.name: offered_by_others(info.manifest)})


def area_plugins(module: ModuleType, manifest: Manifest) -> tuple[ModuleType, ...]:
    """Import the ``plugin.py`` of each area ``manifest`` declares, beside ``module`` (its own
    ``plugin.py``); a :class:`ManifestError` names the area that fails to import."""
    package = module.__name__.rpartition(".")[0]
    if manifest.areas and not package:
        raise ManifestError(f"{module.__name__} declares areas but is not inside a package")
    found = []
    for area in manifest.areas:
        target = f"{package}.{area}.plugin"
        try:
            found.append(importlib.import_module(target))
        except Exception as exc:
            raise ManifestError(f"area {area!r} ({target}) failed to import: {type(exc).__name__}: {exc}") from exc
    return tuple(found)


def import_areas(package: str, manifest: Manifest, part: str) -> None:
    """Import ``<package>.<area>.<part>`` of each area ``manifest`` declares that has one.

    A module of areas declares its pages, endpoints or commands on one module-level blueprint or
    command group; importing each area's ``routes``, ``api`` or ``cli`` adds them::

        @hookimpl
        def register_blueprints():
            import_areas(__package__, manifest, "routes")
            return [bp]
    """
    for area in manifest.areas:
        name = f"{package}.{area}.{part}"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def load_plugin(target: str, expected_name: str | None, source: str) -> PluginInfo:
    """Import ``target`` (a module path) and its areas' ``plugin.py``, and validate them as one
    plugin; raise on any problem."""
    module = importlib.import_module(target)
    manifest = getattr(module, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise ManifestError(f"{target} has no `manifest = Manifest(...)`")
    manifest.validate()
    if expected_name and manifest.name != expected_name:
        raise ManifestError(f"entry point {expected_name!r} names a plugin called {manifest.name!r}")
    info = PluginInfo(manifest=manifest, module=module, source=source, parts=(module, *area_plugins(module, manifest)))
    _check_hooks(info)
    return info


def discover(extra_modules: tuple[str, ...] | list[str] = ()) -> Discovery:
    """Find every plugin: the ``kontor.plugins`` entry points, then ``extra_modules``.

    A plugin that fails to import or validate is quarantined with the reason; the scan goes on.
    """
    importlib.invalidate_caches()
    found = Discovery()
    candidates: list[tuple[str | None, str, str]] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else "?"
        candidates.append((ep.name, ep.value.split(":")[0], dist))
    candidates += [(None, target, "config") for target in extra_modules]
    for expected, target, source in candidates:
        label = expected or target
        if label in found.plugins:
            continue
        try:
            info = load_plugin(target, expected, source)
        except Exception as exc:  # a broken plugin must never stop the platform
            found.quarantined[label] = Quarantined(
                name=label, source=source, error=f"{type(exc).__name__}: {exc}", details=traceback.format_exc()
            )
            continue
        if info.name in found.plugins:
            continue
        found.plugins[info.name] = info
    return found


def new_manager() -> pluggy.PluginManager:
    """An empty plugin manager with the core's hookspecs."""
    pm = pluggy.PluginManager("kontor")
    pm.add_hookspecs(hookspecs)
    return pm


def build_manager(active: list[PluginInfo], quarantined: dict[str, Quarantined]) -> pluggy.PluginManager:
    """A manager with the core's built-in plugins and ``active`` registered, in dependency order.

    A plugin that fails to register (any of its areas) is moved to ``quarantined`` and left out whole.
    """
    pm = new_manager()
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    for info in active:
        add_hookspecs(pm, info)
    for info in active:
        try:
            register(pm, info)  # all its parts or none
        except Exception as exc:
            quarantined[info.name] = Quarantined(info.name, info.source, f"{type(exc).__name__}: {exc}")
    check_pending(pm, {info.name: offered_by_others(info.manifest) for info in active})
    return pm


def single_manager(info: PluginInfo) -> pluggy.PluginManager:
    """A manager holding only ``info`` (all its parts): to call one module's lifecycle hooks (default data)."""
    pm = new_manager()
    add_hookspecs(pm, info)
    register(pm, info)
    return pm


def flatten(results) -> list:
    """Join the lists that the implementations of a hook returned (None counts as empty)."""
    out = []
    for result in results:
        if result is None:
            continue
        if isinstance(result, (list, tuple)):
            out.extend(result)
        else:
            out.append(result)
    return out


# -- Namespaces: what a module registers lives under its own name --

#: The core's roles that every module may grant its own permissions to (everyday work).
SHARED_ROLES = frozenset({"staff"})
CORE = "core"


class NamespaceError(ManifestError):
    """A module registers something outside its own name, or something the core or another module owns."""


@dataclass
class Claims:
    """What one module (or the core, as ``"core"``) registers: URL rules, blueprints, permissions, roles.

    ``permissions`` maps each permission the module lists to the roles it grants it to.
    """

    owner: str
    rules: set[str] = field(default_factory=set)
    blueprints: set[str] = field(default_factory=set)
    permissions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    roles: set[str] = field(default_factory=set)
    depends: frozenset[str] = frozenset()

    def owns_permission(self, name: str) -> bool:
        """Whether ``name`` is declared by this module, in its own namespace (not merely granted)."""
        return name in self.permissions and name.split(".", 1)[0] == self.owner


def _rules_of(blueprints) -> set[str]:
    """The URL rules ``blueprints`` add to an app (registered on a scratch app to read them)."""
    from flask import Flask

    scratch = Flask("kontor_namespace_check")
    scratch.url_map.converters["int"] = RecordIdConverter
    for blueprint in blueprints:
        scratch.register_blueprint(blueprint)
    return {rule.rule for rule in scratch.url_map.iter_rules() if rule.endpoint != "static"}


def claims_from(owner: str, *, blueprints=(), permissions=(), roles=(), depends=()) -> Claims:
    """The claims of ``owner`` from what its registration hooks returned."""
    return Claims(
        owner=owner,
        rules=_rules_of(blueprints),
        blueprints={bp.name for bp in blueprints},
        permissions={p.name: tuple(p.default_roles) for p in permissions},
        roles={r.name for r in roles},
        depends=frozenset(depends),
    )


def claims_of(info: PluginInfo) -> Claims:
    """What plugin ``info`` registers, from its registration hooks alone."""
    hook = single_manager(info).hook
    return claims_from(
        info.name,
        blueprints=flatten(hook.register_blueprints()) + flatten(hook.register_api()),
        permissions=flatten(hook.register_permissions()),
        roles=flatten(hook.register_roles()),
        depends=[r.name for r in info.manifest.requirements()],
    )


_core_claims: Claims | None = None
_claims_cache: dict[str, tuple[ModuleType, Claims]] = {}


def cached_claims_of(info: PluginInfo) -> Claims:
    """:func:`claims_of`, read once per plugin module (what a module registers is fixed by its code)."""
    cached = _claims_cache.get(info.name)
    if cached is None or cached[0] is not info.module:
        cached = _claims_cache[info.name] = (info.module, claims_of(info))
    return cached[1]


def core_claims() -> Claims:
    """What the core's built-in plugins register (the same for every app, so read once)."""
    global _core_claims
    if _core_claims is None:
        pm = new_manager()
        for name in BUILTIN_PLUGINS:
            pm.register(importlib.import_module(name), name=name)
        hook = pm.hook
        _core_claims = claims_from(
            CORE,
            blueprints=flatten(hook.register_blueprints()) + flatten(hook.register_api()),
            permissions=flatten(hook.register_permissions()),
            roles=flatten(hook.register_roles()),
        )
        _core_claims.rules.add("/static/<path:filename>")  # the app's own static files
    return _core_claims


def _under(rule: str, prefix: str) -> bool:
    return rule == prefix or rule.startswith(prefix + "/")


def namespace_problems(claims: Claims, taken: list[Claims]) -> list[str]:
    """What is wrong with ``claims`` given what the core and other modules (``taken``) already own.

    A module's routes live under ``/<name>/`` and ``/api/v1/<name>/``, its blueprints are named
    ``<name>`` or ``api_<name>`` (or start so, followed by ``_``), its permissions ``<name>.…``, and
    its roles are its own: no role of the core or another module. A module may grant its
    permissions to its own roles, to the core's shared roles (``staff``) and to ``admin``. It may
    also list a permission of the core or of a module it depends on, granted to its own roles only:
    that grants the existing permission, which stays its owner's. Each problem names both sides.
    """
    name = claims.owner
    problems: list[str] = []

    def owner_of(kind: str, value: str) -> str | None:
        for other in taken:
            if other.owner == name:
                continue
            if kind == "rule" and value in other.rules:
                return other.owner
            if kind == "blueprint" and value in other.blueprints:
                return other.owner
            if kind == "role" and value in other.roles:
                return other.owner
            if kind == "permission" and other.owns_permission(value):
                return other.owner
            if kind == "prefix" and any(_under(rule, value) for rule in other.rules):
                return other.owner
        return None

    def described(owner: str | None) -> str:
        return "the core" if owner == CORE else f"module {owner}"

    for prefix in (f"/{name}", f"/api/v1/{name}"):
        owner = owner_of("prefix", prefix)
        if owner is not None:
            problems.append(f"{name}: its URL prefix {prefix}/ is taken by {described(owner)}")
    for rule in sorted(claims.rules):
        if not (_under(rule, f"/{name}") or _under(rule, f"/api/v1/{name}")):
            owner = owner_of("rule", rule)
            also = f", and {described(owner)} serves it" if owner else ""
            problems.append(f"{name}: the route {rule} is outside /{name}/ and /api/v1/{name}/{also}")
    for blueprint in sorted(claims.blueprints):
        if blueprint not in (name, f"api_{name}") and not blueprint.startswith((f"{name}_", f"api_{name}_")):
            problems.append(f"{name}: the blueprint {blueprint} must be named {name} or api_{name}")
        owner = owner_of("blueprint", blueprint)
        if owner is not None:
            problems.append(f"{name}: the blueprint {blueprint} is {described(owner)}'s too")
    for role in sorted(claims.roles):
        owner = owner_of("role", role)
        if owner is not None:
            problems.append(f"{name}: the role {role} belongs to {described(owner)}")
    allowed_roles = claims.roles | SHARED_ROLES | {"admin"}
    for permission, roles in sorted(claims.permissions.items()):
        if permission.split(".", 1)[0] == name:
            for role in roles:
                owner = owner_of("role", role)
                if role not in allowed_roles and owner is not None:
                    problems.append(f"{name}: it grants {permission} to the role {role}, which belongs to "
                                    f"{described(owner)}")
            continue
        owner = owner_of("permission", permission)
        if owner is None:
            problems.append(f"{name}: the permission {permission} is outside its namespace {name}.")
        elif owner != CORE and owner not in claims.depends:
            problems.append(f"{name}: the permission {permission} belongs to {described(owner)}, "
                            f"which {name} does not depend on")
        elif not roles or not set(roles) <= claims.roles:
            problems.append(f"{name}: the permission {permission} belongs to {described(owner)}; {name} may only "
                            f"grant it to its own roles, not to {', '.join(sorted(set(roles) - claims.roles)) or 'none'}")
    return problems


def check_namespace(claims: Claims, taken: list[Claims]) -> None:
    """Raise :class:`NamespaceError` listing every problem of ``claims`` (see :func:`namespace_problems`)."""
    problems = namespace_problems(claims, taken)
    if problems:
        raise NamespaceError("; ".join(problems))


class NoApplication(RuntimeError):
    """A hook was called where no Kontor application is running: its answers would be lost."""


def hooks() -> pluggy.HookRelay:
    """The hook relay of the running app's enabled modules (``hooks().crm_opportunity_won(...)``).

    Services call the hooks they offer through it. Outside an application (a script or a job that
    pushed no app context) it raises :class:`NoApplication` rather than answer nothing: a domain
    event that no module hears would leave, say, the books without the invoice an order needs.
    Run such code inside ``app.app_context()``; every ``kontor`` command already is.
    """
    from flask import current_app, has_app_context

    if not has_app_context() or "kontor" not in current_app.extensions:
        raise NoApplication(
            "hooks() was called outside a Kontor application, so no module would hear it; "
            "run this code inside app.app_context() (create_app() builds the app)"
        )
    return current_app.extensions["kontor"].pm.hook
