"""Tags are found by a stored casefolded key, unique and indexed, the same on both backends

SQLite's lower() folds ASCII letters only, so a tag such as "Øresund" was not found again by its
own name and a second one was refused by the unique name. The key is ``str.casefold()`` of the
name; tags whose keys collide are merged into the oldest, their links moved onto it.

Revision ID: core_0006
Revises: core_0005
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0006"
down_revision = "core_0005"
branch_labels = None
depends_on = None

INDEX = "ix_core_tag_name_key"


def _referencing_tables(conn) -> list[tuple[sa.Table, str]]:
    """Every (table, column) holding a core_tag id: the core's and any installed module's links."""
    inspector = sa.inspect(conn)
    found = []
    for name in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(name):
            if fk["referred_table"] == "core_tag" and len(fk["constrained_columns"]) == 1:
                found.append((sa.Table(name, sa.MetaData(), autoload_with=conn), fk["constrained_columns"][0]))
    return found


def _merge(conn, keep: int, retired: list[int]) -> None:
    """Move every link of the ``retired`` tags onto ``keep`` (once), then delete them."""
    for table, column in _referencing_tables(conn):
        col = table.c[column]
        for row in conn.execute(sa.select(table).where(col.in_(retired))).mappings().all():
            moved = {**row, column: keep}
            same = sa.and_(*(table.c[k] == v for k, v in moved.items()))
            conn.execute(table.delete().where(sa.and_(*(table.c[k] == v for k, v in row.items()))))
            if conn.execute(sa.select(sa.func.count()).select_from(table).where(same)).scalar() == 0:
                conn.execute(table.insert().values(moved))
    tag = sa.table("core_tag", sa.column("id"))
    conn.execute(tag.delete().where(tag.c.id.in_(retired)))


def upgrade() -> None:
    # added in place (no table rebuild): rebuilding core_tag on SQLite would cascade to its links
    op.add_column("core_tag", sa.Column("name_key", sa.String(240), nullable=False, server_default=""))
    tag = sa.table("core_tag", sa.column("id"), sa.column("name"), sa.column("name_key"))
    conn = op.get_bind()
    by_key: dict[str, list[int]] = {}
    for row in conn.execute(sa.select(tag.c.id, tag.c.name).order_by(tag.c.id)).all():
        by_key.setdefault(row.name.casefold(), []).append(row.id)
    for ids in by_key.values():
        if len(ids) > 1:
            _merge(conn, ids[0], ids[1:])
    if by_key:
        conn.execute(tag.update().where(tag.c.id == sa.bindparam("pk")).values(name_key=sa.bindparam("key")),
                     [{"pk": ids[0], "key": key} for key, ids in by_key.items()])
    op.create_index(INDEX, "core_tag", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="core_tag")
    op.drop_column("core_tag", "name_key")
