"""Alembic, driven from code: one branch per module, run inside the caller's transaction."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

import migrations

SCRIPT_LOCATION = Path(migrations.__file__).parent
CORE_VERSIONS = SCRIPT_LOCATION / "versions"


def make_config(locations: list[Path | str], connection: Connection | None = None) -> Config:
    """An Alembic config over the core's revisions and ``locations`` (module branches)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    folders = [str(CORE_VERSIONS)] + [str(p) for p in locations if str(p) != str(CORE_VERSIONS)]
    cfg.set_main_option("version_locations", ":".join(dict.fromkeys(folders)))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, target: str, locations: list[Path | str] = ()) -> None:
    """Upgrade to ``target`` (e.g. ``"core@head"``, ``"crm@head"``) on ``connection``."""
    command.upgrade(make_config(list(locations), connection), target)


def downgrade(connection: Connection, target: str, locations: list[Path | str] = ()) -> None:
    """Downgrade to ``target`` (e.g. ``"crm@base"``) on ``connection``."""
    command.downgrade(make_config(list(locations), connection), target)


def branch_heads(branch: str, locations: list[Path | str] = ()) -> list[str]:
    """The head revisions of ``branch`` (a healthy branch has exactly one)."""
    script = ScriptDirectory.from_config(make_config(list(locations)))
    return [rev.revision for rev in script.get_revisions(f"{branch}@head")]


def current_revisions(connection: Connection) -> set[str]:
    """The revisions recorded in ``alembic_version``."""
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


def is_at_head(connection: Connection, branch: str, locations: list[Path | str] = ()) -> bool:
    """Whether ``branch`` is migrated to its head on ``connection``."""
    script = ScriptDirectory.from_config(make_config(list(locations)))
    current = current_revisions(connection)
    heads = set(branch_heads(branch, locations))
    if heads <= current:
        return True
    # a head reached through another branch's depends_on has no row of its own
    reached = {rev.revision for rev in script.iterate_revisions(list(current), "base")} if current else set()
    return heads <= reached


def branch_current(connection: Connection, branch: str, locations: list[Path | str] = ()) -> list[str]:
    """The revisions of ``branch`` recorded in ``alembic_version`` (empty when it is not migrated)."""
    script = ScriptDirectory.from_config(make_config(list(locations)))
    members = {rev.revision for rev in script.walk_revisions() if branch in rev.branch_labels}
    return sorted(current_revisions(connection) & members)
