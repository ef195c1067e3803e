"""Module lifecycle: initialise the core, install, disable, enable, purge and upgrade modules.

Every act runs in one transaction on one connection (schema and data together), so a failure at
any step leaves the database exactly as it was. Each act bumps the modules revision, which every
worker watches (see :mod:`core.wsgi`).
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.audit.recorder import record_event
from core.auth import services as auth_services
from core.company.models import Company
from core.modules import migrate
from core.modules.models import ModulesRevision
from core.plugins import build_manager, flatten


def bump_revision(db: Session) -> None:
    """Tell every worker that the module set changed."""
    db.execute(update(ModulesRevision).where(ModulesRevision.id == 1).values(revision=ModulesRevision.revision + 1))


def initialise(engine: Engine, sessionmaker, *, company_name: str | None = None, currency: str = "EUR",
               country: str = "", locale: str = "en") -> bool:
    """Create or upgrade the core's tables, its roles and permissions; True if it was new.

    Idempotent: running it again upgrades the core branch to head and registers new permissions.
    """
    with engine.begin() as conn:
        new = not migrate.current_revisions(conn)
        migrate.upgrade(conn, "core@head")
        db = sessionmaker(bind=conn)
        pm = build_manager([], {})
        roles = flatten(pm.hook.register_roles())
        auth_services.register_permissions(db, "core", flatten(pm.hook.register_permissions()), roles)
        if db.get(Company, 1) is None:
            db.add(Company(id=1, legal_name=company_name or "My Company", base_currency=currency,
                           country=country, locale=locale))
        if new:
            record_event(db, "core.init", module="core")
        bump_revision(db)
        db.flush()
        db.close()
    return new
