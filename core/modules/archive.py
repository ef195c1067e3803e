"""Archives of a module's rows: written before a purge, read back by a reinstall.

An archive is a zip file ``<module>-<UTC timestamp>.kontor-archive`` kept by the storage service
under the key ``archives/<name>`` (so every host sees it, and can offer it for download), holding ``manifest.json`` (module, version, Alembic revisions, tables, row counts, the sha256 of
``data.json``) and ``data.json`` (every row of the module's tables, parents first, with exact
values: decimals as strings, dates and times in ISO 8601, bytes in base64; and under ``access``
the roles the module registered, their grants and members, and the grants of its permissions to
other roles). A sidecar object ``<archive>.sha256`` holds the checksum of the whole archive, in
``sha256sum`` format. Archives hold business data in clear: in the folder backend they and their
folder are readable by the instance's owner only; a bucket must be as private.
"""
from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import (Integer, MetaData, Table, bindparam, delete, func, insert, inspect as sa_inspect, or_, select,
                        text)
from sqlalchemy.engine import Connection

from core.auth.models import PermissionRecord, Role, RoleGrant, User, user_roles
from core.db import metadata, utcnow
from core.errors import ModuleError
from core.i18n import gettext as _
from core.plugins import PluginInfo

FORMAT = "kontor-archive/1"
SUFFIX = ".kontor-archive"
MANIFEST = "manifest.json"
DATA = "data.json"
#: The storage folder of archives, and the shape of an archive's name in it.
FOLDER = "archives"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*-[0-9TZ]+(-[0-9]+)?\.kontor-archive$")


@dataclass(frozen=True)
class Archive:
    """A verified archive: what its manifest says, and the rows it holds per table."""

    name: str
    module: str
    version: str
    revisions: tuple[str, ...]
    counts: dict[str, int]
    tables: dict[str, dict[str, Any]]
    access: dict[str, list] = field(default_factory=dict)  # roles, grants, members (see dump_access)


def archive_key(name: str) -> str:
    """The storage key of the archive named ``name`` (``archives/<name>``)."""
    return f"{FOLDER}/{name}"


def archive_name(key: str) -> str:
    """The name of the archive stored under ``key``."""
    return key.rsplit("/", 1)[-1]


def sidecar(key: str) -> str:
    """The key (or path) of the object holding the sha256 of the archive at ``key``."""
    return f"{key}.sha256"


def list_archives(store) -> list[str]:
    """The names of the archives in ``store``, newest first."""
    names = [archive_name(k) for k in store.keys(FOLDER) if NAME.match(archive_name(k))]
    return sorted(names, key=lambda n: n.split("-", 1)[1], reverse=True)  # by the time after the module


def module_tables(conn: Connection, info: PluginInfo, other_modules: set[str]) -> list[Table]:
    """The module's tables that exist in the database, parents before children.

    A table belongs to module ``m`` when its name starts with ``m_`` (and not with the prefix of a
    longer module name, e.g. ``m_x_`` of a module ``m_x``). The plugin's ``models`` (its own and
    each of its areas') are imported first so that the shared metadata knows them; a table no model
    maps is reflected.
    """
    for package in info.packages:
        if package and importlib.util.find_spec(f"{package}.models") is not None:
            importlib.import_module(f"{package}.models")
    prefix = f"{info.name}_"
    longer = [f"{m}_" for m in other_modules if m.startswith(prefix)]
    owned = {n for n in sa_inspect(conn).get_table_names()
             if n.startswith(prefix) and not any(n.startswith(p) for p in longer)}
    tables = [t for t in metadata.sorted_tables if t.name in owned]
    unmapped = sorted(owned - set(metadata.tables))
    if unmapped:  # tables only the migrations know: their rows are archived too
        reflected = MetaData()
        reflected.reflect(conn, only=unmapped)
        tables += reflected.sorted_tables
    return tables


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column) -> Callable[[Any], Any]:
    kind = None
    for candidate in (column.type, getattr(column.type, "impl_instance", None)):
        try:
            kind = candidate.python_type
        except (AttributeError, NotImplementedError):
            continue
        if kind is not object:
            break
    convert = {
        Decimal: Decimal,
        datetime: datetime.fromisoformat,
        date: date.fromisoformat,
        time: time.fromisoformat,
        bytes: base64.b64decode,
    }.get(kind)
    if convert is None:
        return lambda value: value
    return lambda value: None if value is None else convert(value)


def dump_tables(conn: Connection, tables: list[Table]) -> dict[str, dict[str, Any]]:
    """Every row of ``tables``, in primary-key order, as JSON-ready columns and rows."""
    dumped: dict[str, dict[str, Any]] = {}
    for table in tables:
        columns = [c.name for c in table.columns]
        order = list(table.primary_key.columns) or list(table.columns)
        rows = conn.execute(select(table).order_by(*order)).all()
        dumped[table.name] = {"columns": columns, "rows": [[_encode(v) for v in row] for row in rows]}
    return dumped


def write_archive(store, module: str, version: str, revisions: list[str],
                  tables: dict[str, dict[str, Any]], access: dict[str, list] | None = None) -> str:
    """Store an archive of ``tables`` (as :func:`dump_tables` returns them) and ``access`` (as
    :func:`dump_access` does), and its sidecar, in ``store``; the archive's key."""
    data = json.dumps({"tables": tables, "access": access or {}}, ensure_ascii=False, sort_keys=True).encode("utf-8")
    created = utcnow()
    manifest = {
        "format": FORMAT,
        "module": module,
        "version": version,
        "revisions": sorted(revisions),
        "created_at": created.isoformat(),
        "tables": [{"name": name, "rows": len(t["rows"])} for name, t in tables.items()],
        "data_sha256": hashlib.sha256(data).hexdigest(),
    }
    key = _free_key(store, f"{module}-{created.strftime('%Y%m%dT%H%M%S%fZ')}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr(DATA, data)
    zipped = buffer.getvalue()
    store.put(key, zipped, "application/zip")
    digest = hashlib.sha256(zipped).hexdigest()
    store.put(sidecar(key), f"{digest}  {archive_name(key)}\n".encode("utf-8"), "text/plain")
    return key


def _free_key(store, stem: str) -> str:
    key, n = archive_key(f"{stem}{SUFFIX}"), 1
    while store.exists(key):
        n += 1
        key = archive_key(f"{stem}-{n}{SUFFIX}")
    return key


def remove_archive(store, key: str) -> None:
    """Delete an archive and its sidecar (after a purge that did not happen)."""
    store.delete(key)
    store.delete(sidecar(key))


def _archive_bytes(source: Path | str, store) -> tuple[str, bytes | None, str | None]:
    """The name, bytes and sidecar text of the archive ``source``: a file on this host (a
    :class:`~pathlib.Path`, or a string naming an existing file), else an archive's name or key in
    ``store``. Bytes None when there is no such archive."""
    if isinstance(source, Path) or (not str(source).startswith(f"{FOLDER}/") and Path(source).is_file()):
        path = Path(source)
        if not path.is_file():
            return path.name, None, None
        side = Path(sidecar(str(path)))
        return path.name, path.read_bytes(), side.read_text(encoding="utf-8") if side.is_file() else None
    key = source if source.startswith(f"{FOLDER}/") else archive_key(source)
    try:
        data = store.read(key)
    except (FileNotFoundError, ValueError):
        return archive_name(key), None, None
    side = store.read(sidecar(key)).decode("utf-8") if store.exists(sidecar(key)) else None
    return archive_name(key), data, side


def read_archive(source: Path | str, store) -> Archive:
    """Open and verify the archive ``source`` (a file on this host, or an archive's name or key in
    ``store``); :class:`ModuleError` naming what is wrong."""
    name, content, side = _archive_bytes(source, store)

    def refuse(reason: str) -> ModuleError:
        return ModuleError(_("The archive %(file)s cannot be restored: %(reason)s", file=name, reason=reason),
                           field="restore")

    if content is None:
        raise refuse(_("the file does not exist"))
    if side is not None and side.split()[0:1] != [hashlib.sha256(content).hexdigest()]:
        raise refuse(_("its checksum does not match the file"))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            data = archive.read(DATA)
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise refuse(_("it is not a Kontor archive")) from None
    if manifest.get("format") != FORMAT:
        raise refuse(_("unknown format %(format)s", format=manifest.get("format")))
    if hashlib.sha256(data).hexdigest() != manifest.get("data_sha256"):
        raise refuse(_("the checksum of its data does not match"))
    content = json.loads(data)
    return Archive(name=name, module=manifest["module"], version=manifest["version"],
                   revisions=tuple(manifest["revisions"]),
                   counts={t["name"]: t["rows"] for t in manifest["tables"]}, tables=content["tables"],
                   access=content.get("access") or {})


def load_tables(conn: Connection, archive: Archive, tables: list[Table]) -> dict[str, int]:
    """Insert the archived rows into ``tables`` (parents first); the number of rows per table.

    Refuses an archive holding a table or a column the module does not have.
    """
    by_name = {t.name: t for t in tables}
    unknown = sorted(set(archive.tables) - set(by_name))
    if unknown:
        raise ModuleError(_("The archive holds tables the module does not have: %(tables)s",
                            tables=", ".join(unknown)), field="restore")
    counts: dict[str, int] = {}
    with _triggers_set_aside(conn, [t.name for t in tables if archive.tables.get(t.name)]):
        for table in tables:
            dumped = archive.tables.get(table.name)
            if not dumped:
                continue
            missing = [c for c in dumped["columns"] if c not in table.columns]
            if missing:
                raise ModuleError(_("The archive holds columns %(table)s does not have: %(columns)s",
                                    table=table.name, columns=", ".join(missing)), field="restore")
            decoders = [_decoder(table.columns[c]) for c in dumped["columns"]]
            rows = [{c: d(v) for c, d, v in zip(dumped["columns"], decoders, row)} for row in dumped["rows"]]
            if rows:
                conn.execute(insert(table), rows)
                _advance_sequence(conn, table)
            counts[table.name] = len(rows)
    return counts


def dump_access(conn: Connection, module: str) -> dict[str, list]:
    """The roles ``module`` registered (with their grants and members) and every grant of its
    permissions to other roles, as JSON-ready lists: what a purge takes away and a restore gives back."""
    role_ids = select(Role.id).where(Role.module == module)
    permissions = select(PermissionRecord.name).where(PermissionRecord.module == module)
    roles = conn.execute(select(Role.name, Role.title, Role.description).where(Role.id.in_(role_ids))
                         .order_by(Role.name)).all()
    grants = conn.execute(select(Role.name, RoleGrant.permission).join(Role, Role.id == RoleGrant.role_id)
                          .where(or_(RoleGrant.role_id.in_(role_ids), RoleGrant.permission.in_(permissions)))
                          .order_by(Role.name, RoleGrant.permission)).all()
    members = conn.execute(select(Role.name, user_roles.c.user_id).join(Role, Role.id == user_roles.c.role_id)
                           .where(user_roles.c.role_id.in_(role_ids)).order_by(Role.name, user_roles.c.user_id)).all()
    return {"roles": [list(r) for r in roles], "grants": [list(g) for g in grants], "members": [list(m) for m in members]}


def remove_access(conn: Connection, module: str) -> list[str]:
    """Delete the roles ``module`` registered, their grants and members, and every grant of its
    permissions; the names of the roles removed."""
    role_ids = list(conn.execute(select(Role.id).where(Role.module == module)).scalars())
    names = list(conn.execute(select(Role.name).where(Role.id.in_(role_ids)).order_by(Role.name)).scalars())
    permissions = select(PermissionRecord.name).where(PermissionRecord.module == module)
    conn.execute(delete(RoleGrant).where(or_(RoleGrant.role_id.in_(role_ids), RoleGrant.permission.in_(permissions))))
    conn.execute(delete(user_roles).where(user_roles.c.role_id.in_(role_ids)))
    _delete_cascading(conn, Role.__table__, role_ids)
    conn.execute(delete(Role).where(Role.id.in_(role_ids)))
    return names


def _delete_cascading(conn: Connection, parent, ids: list[int]) -> None:
    """Delete the rows that declare ``ON DELETE CASCADE`` towards rows ``ids`` of ``parent`` (an
    approval step asked of a role, say): SQLite does not cascade while a purge has its foreign keys
    off, and the check after the purge would refuse rows left pointing at nothing."""
    for table in parent.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is parent and (key.ondelete or "").upper() == "CASCADE" and table is not user_roles:
                conn.execute(delete(table).where(key.parent.in_(ids)))


def load_access(conn: Connection, module: str, access: dict[str, list]) -> dict[str, int]:
    """Put back what :func:`dump_access` archived, on top of what the install registered: roles
    missing are created, grants of permissions that exist and memberships of users that still exist
    are added. The number of roles, grants and members added."""
    added = {"roles": 0, "grants": 0, "members": 0}
    for name, title, description in access.get("roles", []):
        if conn.execute(select(Role.id).where(Role.name == name)).first() is None:
            conn.execute(insert(Role).values(name=name, title=title, description=description, module=module))
            added["roles"] += 1
    role_id = dict(conn.execute(select(Role.name, Role.id)).all())
    known = set(conn.execute(select(PermissionRecord.name)).scalars())
    held = set(conn.execute(select(RoleGrant.role_id, RoleGrant.permission)).all())
    for role, permission in access.get("grants", []):
        if role in role_id and permission in known and (role_id[role], permission) not in held:
            conn.execute(insert(RoleGrant).values(role_id=role_id[role], permission=permission))
            held.add((role_id[role], permission))
            added["grants"] += 1
    users = set(conn.execute(select(User.id)).scalars())
    members = set(conn.execute(select(user_roles.c.role_id, user_roles.c.user_id)).all())
    for role, user_id in access.get("members", []):
        if role in role_id and user_id in users and (role_id[role], user_id) not in members:
            conn.execute(insert(user_roles).values(role_id=role_id[role], user_id=user_id))
            members.add((role_id[role], user_id))
            added["members"] += 1
    return added


@contextmanager
def _triggers_set_aside(conn: Connection, table_names: list[str]) -> Iterator[None]:
    """Load archived rows past the tables' own triggers, then put the triggers back.

    A module's triggers guard live changes (a posted entry takes no new line, nothing is booked
    before the lock date); the rows of an archive were accepted by them once and return as they
    were. Inside the restore's transaction: a failure leaves the triggers as they were.
    """
    if conn.dialect.name == "postgresql":
        for name in table_names:
            conn.execute(text(f'ALTER TABLE "{name}" DISABLE TRIGGER USER'))
        yield
        for name in table_names:
            conn.execute(text(f'ALTER TABLE "{name}" ENABLE TRIGGER USER'))
        return
    saved = conn.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :names")
        .bindparams(bindparam("names", expanding=True)), {"names": table_names or [""]}).all()
    for name, _sql in saved:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in saved:
        conn.execute(text(sql))


def _advance_sequence(conn: Connection, table: Table) -> None:
    """On PostgreSQL, move an integer key's sequence past the restored ids."""
    keys = list(table.primary_key.columns)
    if conn.dialect.name != "postgresql" or len(keys) != 1 or not isinstance(keys[0].type, Integer):
        return
    key = keys[0]
    sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key.name}).scalar()
    if sequence:
        highest = conn.execute(select(func.max(key))).scalar()
        conn.execute(text("SELECT setval(:s, :v, true)"), {"s": sequence, "v": highest})
