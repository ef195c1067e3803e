"""Module lifecycle: initialise the core, install, disable, enable, purge and upgrade modules.

Every act runs in one transaction on one connection (schema and data together), so a failure at
any step leaves the database exactly as it was. Each act bumps the modules revision, which every
worker watches (see :mod:`core.wsgi`).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import pluggy
from packaging.version import InvalidVersion, Version
from sqlalchemy import delete, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from core.audit.recorder import record_event
from core.auth import services as auth_services
from core.auth.models import PermissionRecord
from core.company.models import Company
from core.errors import ModuleError
from core.i18n import gettext as _
from core.modules import archive as archives
from core.modules import migrate
from core.modules.models import ModuleRecord, ModulesRevision
from core.modules.registry import (DependencyError, InstalledModule, active_plugins, dependency_order, dependents,
                                   read_state)
from core.plugins import (Discovery, NamespaceError, PluginInfo, build_manager, cached_claims_of, check_namespace,
                          core_claims, flatten, single_manager)

ENABLED = "installed"
DISABLED = "disabled"

#: Called with (act, module name) as each module's step begins: for progress output.
Progress = Callable[[str, str], None]


class UnknownModule(ModuleError):
    """No module of that name is installed or available."""

    status = 404


@dataclass(frozen=True)
class ModuleContext:
    """What a lifecycle act works on: the database, the plugins found, and the instance folder.

    ``pm`` is the plugin manager of the enabled modules (the running app's); when None it is
    built from the database's state. ``storage_url`` is where archives go (the app's
    ``STORAGE_URL``); empty: the environment's, else the instance's ``files`` folder.
    """

    engine: Engine
    sessionmaker: Any
    discovery: Discovery
    instance_path: Path
    pm: pluggy.PluginManager | None = None
    extra_plugins: tuple[str, ...] = ()
    storage_url: str = ""

    @property
    def storage(self):
        """The storage service archives are written to and read from."""
        import os

        from core.filestore import default_url, open_storage

        return open_storage(self.storage_url or os.environ.get("KONTOR_STORAGE_URL")
                            or default_url(self.instance_path))

    @property
    def plugins(self) -> dict[str, PluginInfo]:
        return self.discovery.plugins


def context_from_app(app) -> ModuleContext:
    """The lifecycle context of a Kontor Flask app.

    Inside a request, the request session's transaction is ended first: an act runs on a
    connection of its own, and on SQLite a transaction left open would hold the write lock.
    """
    from flask import g, has_app_context

    if has_app_context() and "kontor_session" in g:
        g.kontor_session.commit()
    kontor = app.extensions["kontor"]
    return ModuleContext(kontor.engine, kontor.sessionmaker, kontor.discovery, Path(app.instance_path), kontor.pm,
                         tuple(app.config.get("EXTRA_PLUGINS", ())), app.config.get("STORAGE_URL", ""))


def refreshed(ctx: ModuleContext, discovery: Discovery) -> ModuleContext:
    """``ctx`` with a new scan of the plugins (after new code was installed)."""
    return replace(ctx, discovery=discovery)


@dataclass(frozen=True)
class ModuleStatus:
    """One line of the module list: a module available, installed, disabled or quarantined.

    ``state`` is one of available, installed, disabled, upgradable, quarantined (then ``error``
    says why).
    """

    name: str
    title: str
    version: str
    installed_version: str
    state: str
    depends: tuple[str, ...] = ()
    summary: str = ""
    author: str = ""
    license: str = ""
    category: str = ""
    error: str = ""
    required_by: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """The status as plain data (for the API)."""
        return {**asdict(self), "depends": list(self.depends), "required_by": list(self.required_by)}


def bump_revision(db: Session) -> None:
    """Tell every worker that the module set changed."""
    db.execute(update(ModulesRevision).where(ModulesRevision.id == 1).values(revision=ModulesRevision.revision + 1))


def initialise(engine: Engine, sessionmaker, *, company_name: str | None = None, currency: str = "EUR",
               country: str = "", locale: str = "en", locations: list[Path] = ()) -> bool:
    """Create or upgrade the core's tables, its roles and permissions; True if it was new.

    Idempotent: running it again upgrades the core branch to head and registers new permissions.
    ``locations`` are the installed modules' migration folders (Alembic must see every branch
    recorded in the database, though only the core's is upgraded).
    """
    with engine.begin() as conn:
        new = not migrate.current_revisions(conn)
        migrate.upgrade(conn, "core@head", list(locations))
        db = sessionmaker(bind=conn)
        pm = build_manager([], {})
        roles = flatten(pm.hook.register_roles())
        auth_services.register_permissions(db, "core", flatten(pm.hook.register_permissions()), roles)
        if db.execute(select(Company.id).limit(1)).first() is None:  # the first company is the default one
            db.add(Company(legal_name=company_name or "My Company", base_currency=currency,
                           country=country, locale=locale, is_default=True))
        if new:
            record_event(db, "core.init", module="core")
        bump_revision(db)
        db.flush()
        db.close()
    return new


# -- Helpers shared by the acts --


@contextmanager
def migration_connection(engine, *, rebuilds: bool = True) -> Iterator[Connection]:
    """One connection in one transaction for migrations: all or nothing.

    With ``rebuilds`` (migrations that may rebuild tables holding rows: a downgrade, an upgrade),
    SQLite checks foreign keys once, before the commit, rather than statement by statement. A batch
    migration rebuilds a table by copying it and dropping the original, which SQLite counts as
    deleting every row that other tables point to, even within one transaction; this is SQLite's
    documented procedure for such changes (foreign keys off, ``PRAGMA foreign_key_check`` at the end).
    """
    with engine.connect() as conn:
        checked_at_end = rebuilds and conn.dialect.name == "sqlite"
        if checked_at_end:  # only outside a transaction does SQLite take this pragma
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                yield conn
                if checked_at_end:
                    _check_foreign_keys(conn)
        finally:
            if checked_at_end:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


@contextmanager
def _transaction(ctx: ModuleContext, *, rebuilds: bool = False) -> Iterator[tuple[Connection, Session]]:
    """One connection, one transaction (see :func:`migration_connection`), and a session bound to both."""
    with migration_connection(ctx.engine, rebuilds=rebuilds) as conn:
        db = ctx.sessionmaker(bind=conn)
        try:
            yield conn, db
            db.flush()
        finally:
            db.close()


def _check_foreign_keys(conn: Connection) -> None:
    """Refuse (roll back) an act that left rows pointing at rows that no longer exist (SQLite)."""
    broken = sorted({row[0] for row in conn.exec_driver_sql("PRAGMA foreign_key_check").all()})
    if broken:
        raise ModuleError(_("The act would leave rows of %(tables)s pointing at rows that no longer exist; nothing "
                            "was changed.", tables=", ".join(broken)), field="name")


@contextmanager
def _step(act: str, name: str) -> Iterator[None]:
    """Turn any failure of one module's step into a :class:`ModuleError` naming the module."""
    try:
        yield
    except ModuleError:
        raise
    except Exception as exc:
        raise ModuleError(_("%(act)s %(name)s failed, nothing was changed: %(error)s", act=act, name=name,
                            error=f"{type(exc).__name__}: {exc}"), field="name") from exc


def _unique(names) -> list[str]:
    names = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    if not names:
        raise ModuleError(_("Name at least one module."), field="name")
    return names


def _installed(db: Session) -> dict[str, InstalledModule]:
    rows = db.execute(select(ModuleRecord.name, ModuleRecord.version, ModuleRecord.state)).all()
    return {r.name: InstalledModule(r.name, r.version, r.state) for r in rows}


def _unknown(ctx: ModuleContext, name: str) -> ModuleError:
    broken = ctx.discovery.quarantined.get(name)
    if broken is not None:
        return ModuleError(_("%(name)s is quarantined: %(error)s", name=name, error=broken.error), field="name")
    return UnknownModule(_("There is no module called %(name)s.", name=name), field="name")


def _require_installed(ctx: ModuleContext, names: list[str], installed: dict[str, InstalledModule],
                       *, with_code: bool = False) -> None:
    for name in names:
        if name not in installed:
            if name in ctx.plugins:
                raise ModuleError(_("%(name)s is not installed.", name=name), field="name")
            raise _unknown(ctx, name)
        if with_code and name not in ctx.plugins:
            raise ModuleError(_("The code of %(name)s is not found; it cannot be changed now.", name=name),
                              field="name")


def _order(ctx: ModuleContext, names: list[str]) -> list[str]:
    try:
        return dependency_order(names, ctx.plugins)
    except DependencyError as exc:
        raise ModuleError(str(exc), field="name") from None


def migration_folders(info: PluginInfo) -> list[Path]:
    """The folders holding ``info``'s Alembic branch (from its ``register_migrations``)."""
    return [Path(p) for p in flatten(single_manager(info).hook.register_migrations())]


def migration_locations(discovery: Discovery, names=None) -> list[Path]:
    """The migrations folders of the plugins ``names`` (default: every discovered plugin).

    Alembic must see every branch recorded in the database, so ``names`` holds at least the
    installed modules; leaving the others out keeps a module that is merely available, with a
    broken or half-written branch, from stopping every other module's install.
    """
    infos = [info for name, info in discovery.plugins.items() if names is None or name in names]
    return [folder for info in infos for folder in migration_folders(info)]


def _active_manager(ctx: ModuleContext, installed: dict[str, InstalledModule]) -> pluggy.PluginManager:
    if ctx.pm is not None:
        return ctx.pm
    return build_manager(active_plugins(ctx.plugins, installed, {}), {})


def _register_permissions(db: Session, info: PluginInfo) -> None:
    pm = single_manager(info)
    auth_services.register_permissions(db, info.name, flatten(pm.hook.register_permissions()),
                                       flatten(pm.hook.register_roles()))


def _tell(progress: Progress | None, act: str, name: str) -> None:
    if progress is not None:
        progress(act, name)


# -- install --


def install(ctx: ModuleContext, names: list[str], *, restore_from: Path | str | None = None,
            progress: Progress | None = None) -> list[str]:
    """Install ``names`` and the modules they depend on; the names installed, dependencies first.

    Dependencies are resolved before anything runs (a missing, cyclic or incompatible module is a
    :class:`ModuleError` naming it). Then, in one transaction, each module's Alembic branch is
    migrated to head, its row recorded, its default data loaded (or, with ``restore_from``, the
    rows of an archive of it: a file on this host, or an archive's name or key in the storage service), its permissions registered and granted, and the act audited.
    Any failure rolls everything back.
    """
    names = _unique(names)
    with _transaction(ctx) as (conn, db):
        installed = _installed(db)
        for name in names:
            if name not in ctx.plugins:
                raise _unknown(ctx, name)
        already = [n for n in names if n in installed]
        if already:
            raise ModuleError(_("Already installed: %(names)s.", names=", ".join(already)), field="name")
        order = _order(ctx, names)
        disabled = [n for n in order if n in installed and installed[n].state != ENABLED]
        if disabled:
            raise ModuleError(_("%(names)s is disabled, and the modules being installed need it; enable it first.",
                                names=", ".join(disabled)), field="name")
        todo = [n for n in order if n not in installed]
        _check_namespaces(ctx, db, todo, installed)
        locations = migration_locations(ctx.discovery, {*installed, *todo})
        archive = _restorable(ctx, restore_from, todo, locations) if restore_from else None
        for name in todo:
            _tell(progress, "install", name)
            with _step(_("Installing"), name):
                restore = archive if archive is not None and archive.module == name else None
                _install_one(ctx, conn, db, ctx.plugins[name], locations, restore)
        pm = _active_manager(ctx, installed)
        for name in todo:
            with _step(_("Installing"), name):
                pm.hook.module_installed(name=name, session=db)
        bump_revision(db)
    return todo


def _restorable(ctx: ModuleContext, path: Path | str, todo: list[str], locations: list[Path]) -> archives.Archive:
    """The archive at ``path``, verified, for a module among ``todo`` whose branch head it matches."""
    archive = archives.read_archive(path, ctx.storage)
    if archive.module not in todo:
        raise ModuleError(_("The archive holds the module %(module)s, which this act does not install.",
                            module=archive.module), field="restore")
    folders = migration_folders(ctx.plugins[archive.module])
    heads = sorted(migrate.branch_heads(archive.module, locations)) if folders else []
    if sorted(archive.revisions) != heads:
        raise ModuleError(_("The archive of %(module)s was made at revision %(archived)s, but the module's "
                            "schema is now at %(head)s; it cannot be restored.", module=archive.module,
                            archived=", ".join(archive.revisions) or "-", head=", ".join(heads) or "-"),
                          field="restore")
    return archive


def _check_namespaces(ctx: ModuleContext, db: Session, todo: list[str],
                      installed: dict[str, InstalledModule]) -> None:
    """Refuse, before anything runs, a module registering outside its namespace or what another owns.

    Routes, blueprints, permissions and roles are checked against the core, the installed modules
    and the modules installed before it in this act (see :func:`core.plugins.namespace_problems`);
    a role already in the database belongs to the module that created it.
    """
    from core.auth.models import Role

    taken = [core_claims()] + [cached_claims_of(ctx.plugins[n]) for n in installed if n in ctx.plugins]
    for name in todo:
        try:
            claims = cached_claims_of(ctx.plugins[name])
            check_namespace(claims, taken)
        except NamespaceError as exc:
            raise ModuleError(_("%(name)s cannot be installed, nothing was changed: %(problems)s", name=name,
                                problems=str(exc)), field="name") from None
        owned = db.execute(select(Role.name, Role.module).where(
            Role.name.in_(claims.roles), Role.module.not_in((name, "core")))).first()
        if owned is not None:
            raise ModuleError(_("%(name)s cannot be installed, nothing was changed: the role %(role)s belongs to "
                                "module %(owner)s", name=name, role=owned.name, owner=owned.module), field="name")
        taken.append(claims)


def _check_new_tables(conn: Connection, info: PluginInfo, before: set[str], known: set[str]) -> None:
    """Refuse tables a module's migrations created outside ``<name>_`` (or inside another module's prefix)."""
    created = set(sa_inspect(conn).get_table_names()) - before
    name = info.name
    for table in sorted(created):
        if table.startswith("sqlite_"):
            continue  # SQLite's own bookkeeping (sqlite_sequence)
        # the longest module name whose prefix the table has: "crm_extra_x" is crm_extra's, not crm's
        owner = max((o for o in known if table.startswith(f"{o}_")), key=len, default=None)
        if owner == name:
            continue
        if owner is None:
            raise ModuleError(_("%(name)s created the table %(table)s, outside its prefix %(prefix)s.", name=name,
                                table=table, prefix=f"{name}_"), field="name")
        raise ModuleError(_("%(name)s created the table %(table)s, which belongs to %(owner)s by its prefix.",
                            name=name, table=table, owner=owner), field="name")


def _install_one(ctx: ModuleContext, conn: Connection, db: Session, info: PluginInfo, locations: list[Path],
                 archive: archives.Archive | None) -> None:
    if migration_folders(info):
        tables_before = set(sa_inspect(conn).get_table_names())
        migrate.upgrade(conn, f"{info.name}@head", locations)
        _check_new_tables(conn, info, tables_before, {*ctx.plugins, "core"})
    db.add(ModuleRecord(name=info.name, version=info.manifest.version, state=ENABLED, source=info.source))
    db.flush()
    _register_permissions(db, info)
    changes: dict[str, Any] = {"version": [None, info.manifest.version], "state": [None, ENABLED]}
    if archive is None:
        load_default_data_everywhere(db, single_manager(info))
    else:
        db.flush()
        tables = archives.module_tables(conn, info, set(ctx.plugins) - {info.name})
        changes["restored"] = [archive.name, archives.load_tables(conn, archive, tables)]
        changes["access_restored"] = archives.load_access(conn, info.name, archive.access)
        db.expire_all()
    record_event(db, "module.install", module=info.name, table_name=ModuleRecord.__tablename__,
                 record_id=info.name, changes=changes)


def load_default_data_everywhere(db: Session, manager) -> None:
    """Run ``manager``'s ``load_default_data`` once in each company of the group (a chart and
    taxes for each company's country, its pipeline stages …)."""
    from core.company.scope import in_company

    for company_id in db.execute(select(Company.id).order_by(Company.id)).scalars().all():
        with in_company(company_id):
            manager.hook.load_default_data(session=db)
            db.flush()


# -- disable and enable --


def disable(ctx: ModuleContext, names: list[str], *, cascade: bool = False,
            progress: Progress | None = None) -> list[str]:
    """Disable ``names``, keeping their tables and rows; the names disabled, dependents first.

    Refused while an enabled module depends on one of them, unless ``cascade``: then those are
    disabled in the same act.
    """
    names = _unique(names)
    with _transaction(ctx) as (_conn, db):
        installed = _installed(db)
        _require_installed(ctx, names, installed)
        off = [n for n in names if installed[n].state != ENABLED]
        if off:
            raise ModuleError(_("Already disabled: %(names)s.", names=", ".join(off)), field="name")
        enabled = {n for n, m in installed.items() if m.state == ENABLED}
        needing = [d for n in names for d in dependents(n, ctx.plugins, enabled) if d not in names]
        needing = list(dict.fromkeys(needing))
        if needing and not cascade:
            raise ModuleError(_("%(names)s cannot be disabled while needed by %(dependents)s; disable those "
                                "too (cascade).", names=", ".join(names), dependents=", ".join(needing)),
                              field="name")
        targets = _dependents_first(ctx, needing + names)
        for name in targets:
            _tell(progress, "disable", name)
            _set_state(db, name, DISABLED, "module.disable")
        bump_revision(db)
    return targets


def enable(ctx: ModuleContext, names: list[str], *, progress: Progress | None = None) -> list[str]:
    """Enable ``names`` and the disabled modules they need; the names enabled, dependencies first.

    Refused when a module they need is not installed (or its code is missing).
    """
    names = _unique(names)
    with _transaction(ctx) as (_conn, db):
        installed = _installed(db)
        _require_installed(ctx, names, installed)
        on = [n for n in names if installed[n].state == ENABLED]
        if on:
            raise ModuleError(_("Already enabled: %(names)s.", names=", ".join(on)), field="name")
        order = _order(ctx, names)
        missing = [n for n in order if n not in installed]
        if missing:
            raise ModuleError(_("%(wanting)s needs %(names)s, which is not installed; install it first.",
                                names=", ".join(missing), wanting=", ".join(names)), field="name")
        targets = [n for n in order if installed[n].state != ENABLED]
        for name in targets:
            _tell(progress, "enable", name)
            _set_state(db, name, ENABLED, "module.enable")
        bump_revision(db)
    return targets


def _dependents_first(ctx: ModuleContext, names: list[str]) -> list[str]:
    known = [n for n in names if n in ctx.plugins]
    try:
        order = dependency_order(known, ctx.plugins)
    except DependencyError:
        order = known
    ordered = [n for n in reversed(order) if n in names]
    return ordered + [n for n in names if n not in ordered]


def _set_state(db: Session, name: str, state: str, action: str) -> None:
    record = db.get(ModuleRecord, name)
    before = record.state
    record.state = state
    db.flush()
    record_event(db, action, module=name, table_name=ModuleRecord.__tablename__, record_id=name,
                 changes={"state": [before, state]})


# -- purge --


def purge(ctx: ModuleContext, names: list[str], *, force: bool = False,
          progress: Progress | None = None) -> list[str]:
    """Archive the rows of ``names``, then drop their tables, roles and permissions and forget them;
    the storage keys of the archives written (``archives/<name>``, see :mod:`core.modules.archive`).

    Refused while other installed modules depend on them (naming those), or when a module's
    ``module_uninstalling`` hook vetoes. ``force`` is the admin's explicit override of the vetoes a
    module lets be overridden (posted books still within their retention period); it is audited.
    The archive of each module is written before its branch is downgraded to base; the rest is one
    transaction, and on failure the archives are deleted again.
    """
    names = _unique(names)
    written: list[str] = []
    try:
        with _transaction(ctx, rebuilds=True) as (conn, db):
            installed = _installed(db)
            _require_installed(ctx, names, installed, with_code=True)
            others = set(installed) - set(names)
            needing = list(dict.fromkeys(d for n in names for d in dependents(n, ctx.plugins, others)))
            if needing:
                raise ModuleError(_("%(names)s cannot be purged while needed by %(dependents)s; purge those "
                                    "first.", names=", ".join(names), dependents=", ".join(needing)), field="name")
            targets = _dependents_first(ctx, names)
            pm = _active_manager(ctx, installed)
            for name in targets:
                with _step(_("Purging"), name):
                    _ask_uninstalling(pm, ctx.plugins[name], db, force)
            locations = migration_locations(ctx.discovery, installed)
            for name in targets:
                _tell(progress, "purge", name)
                with _step(_("Purging"), name):
                    written.append(_archive(ctx, conn, ctx.plugins[name], installed[name], locations))
                    _drop(conn, db, ctx.plugins[name], installed[name], written[-1], locations, force)
            bump_revision(db)
    except BaseException:
        for key in written:
            archives.remove_archive(ctx.storage, key)
        raise
    return written


def _ask_uninstalling(pm: pluggy.PluginManager, info: PluginInfo, db: Session, force: bool) -> None:
    """Let every enabled module (and the module itself, even when disabled) veto the purge."""
    pm.hook.module_uninstalling(name=info.name, session=db, force=force)
    if not pm.is_registered(info.module):
        single_manager(info).hook.module_uninstalling(name=info.name, session=db, force=force)
    db.flush()


def _archive(ctx: ModuleContext, conn: Connection, info: PluginInfo, record: InstalledModule,
             locations: list[Path]) -> str:
    """Store the archive of every row of ``info``'s tables (before anything is dropped); its key."""
    tables = archives.module_tables(conn, info, set(ctx.plugins) - {info.name})
    revisions = migrate.branch_current(conn, info.name, locations) if migration_folders(info) else []
    return archives.write_archive(ctx.storage, info.name, record.version, revisions,
                                  archives.dump_tables(conn, tables), archives.dump_access(conn, info.name))


def _drop(conn: Connection, db: Session, info: PluginInfo, record: InstalledModule, key: str,
          locations: list[Path], force: bool) -> None:
    """Downgrade ``info``'s branch to base and forget the module, its roles and its permissions."""
    if migration_folders(info):
        migrate.downgrade(conn, f"{info.name}@base", locations)
    roles = archives.remove_access(conn, info.name)
    permissions = list(db.execute(select(PermissionRecord.name).where(PermissionRecord.module == info.name)).scalars())
    db.execute(delete(PermissionRecord).where(PermissionRecord.module == info.name))
    db.execute(delete(ModuleRecord).where(ModuleRecord.name == info.name))
    db.expire_all()
    changes = {"version": [record.version, None], "state": [record.state, None], "archive": archives.archive_name(key),
               "permissions": permissions, "roles": roles}
    if force:
        changes["forced"] = True
    record_event(db, "module.purge", module=info.name, table_name=ModuleRecord.__tablename__, record_id=info.name,
                 changes=changes)


# -- upgrade --


def upgrade(ctx: ModuleContext, names: list[str], *, progress: Progress | None = None) -> list[str]:
    """Run the new revisions of ``names``' branches to head and record their new versions.

    Registers permissions the new version adds. One transaction; refused when a module is not
    installed or the new version's dependencies are not met.
    """
    names = _unique(names)
    with _transaction(ctx) as (conn, db):
        installed = _installed(db)
        _require_installed(ctx, names, installed, with_code=True)
        _order(ctx, names)
        locations = migration_locations(ctx.discovery, installed)
        for name in names:
            _tell(progress, "upgrade", name)
            with _step(_("Upgrading"), name):
                info = ctx.plugins[name]
                if migration_folders(info):
                    tables_before = set(sa_inspect(conn).get_table_names())
                    migrate.upgrade(conn, f"{name}@head", locations)
                    _check_new_tables(conn, info, tables_before, {*ctx.plugins, "core"})
                _register_permissions(db, info)
                record = db.get(ModuleRecord, name)
                before = record.version
                record.version = info.manifest.version
                db.flush()
                record_event(db, "module.upgrade", module=name, table_name=ModuleRecord.__tablename__,
                             record_id=name, changes={"version": [before, info.manifest.version]})
        bump_revision(db)
    return names


# -- the list --


def _newer(available: str, installed: str) -> bool:
    try:
        return Version(available) > Version(installed)
    except InvalidVersion:
        return available != installed


def module_status(ctx: ModuleContext) -> list[ModuleStatus]:
    """Every module known here: available, installed, disabled, upgradable or quarantined, by name.

    ``required_by`` lists the installed modules that depend on each one.
    """
    installed = read_state(ctx.engine)[1]
    rows: dict[str, ModuleStatus] = {}
    for name, info in ctx.plugins.items():
        m = info.manifest
        record = installed.get(name)
        required_by = tuple(dependents(name, ctx.plugins, set(installed) - {name})) if record else ()
        if record is None:
            state = "available"
        elif record.state != ENABLED:
            state = DISABLED
        else:
            state = "upgradable" if _newer(m.version, record.version) else ENABLED
        broken = ctx.discovery.quarantined.get(name)
        rows[name] = ModuleStatus(
            name=name, title=m.title, version=m.version, installed_version=record.version if record else "",
            state="quarantined" if broken else state, depends=tuple(m.depends), summary=m.summary,
            author=m.author, license=m.license, category=m.category, error=broken.error if broken else "",
            required_by=required_by,
        )
    for name, broken in ctx.discovery.quarantined.items():
        if name not in rows:
            record = installed.get(name)
            rows[name] = ModuleStatus(name=name, title=name, version="",
                                      installed_version=record.version if record else "", state="quarantined",
                                      error=broken.error)
    for name, record in installed.items():
        if name not in rows:
            rows[name] = ModuleStatus(name=name, title=name, version="", installed_version=record.version,
                                      state="quarantined", error=_("installed, but its code is not found"))
    return [rows[n] for n in sorted(rows)]


#: The acts by name, as the admin page, the API and the CLI name them.
ACTS: dict[str, Callable[..., list]] = {
    "install": install,
    "disable": disable,
    "enable": enable,
    "purge": purge,
    "upgrade": upgrade,
}
