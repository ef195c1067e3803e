"""Users, roles, granted permissions, API tokens and the login throttle."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, metadata, utcnow

user_roles = Table(
    "core_user_role",
    metadata,
    Column("user_id", ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person who signs in. ``session_nonce`` changes to end all their sessions at once."""

    __tablename__ = "core_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="")
    session_nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # the company the user last chose to work in (the header's switcher); one of their companies
    current_company_id: Mapped[int | None] = mapped_column(ForeignKey("core_company.id", ondelete="SET NULL"),
                                                          nullable=True)
    # who approves for the user where an approval step asks for "the requester's manager"
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True)

    roles: Mapped[list["Role"]] = relationship(secondary=user_roles, lazy="selectin", order_by="Role.name")

    __audit_exclude__ = ("last_login_at", "current_company_id")
    __audit_redact__ = ("password_hash", "session_nonce")

    @property
    def role_names(self) -> list[str]:
        return [role.name for role in self.roles]

    # Flask-Login's protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"


class PermissionRecord(Base):
    """A permission registered by an installed module (the running set may be smaller)."""

    __tablename__ = "core_permission"
    __audited__ = False  # registered and removed by audited module acts

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    module: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(String(300), default="")


class Role(Base):
    """A named set of permissions."""

    __tablename__ = "core_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(String(300), default="")
    module: Mapped[str] = mapped_column(String(64), default="core")

    grants: Mapped[list["RoleGrant"]] = relationship(
        back_populates="role", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def permission_names(self) -> set[str]:
        return {grant.permission for grant in self.grants}


class RoleGrant(Base):
    """A permission granted to a role."""

    __tablename__ = "core_role_permission"

    role_id: Mapped[int] = mapped_column(ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(
        ForeignKey("core_permission.name", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = relationship(back_populates="grants")


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "core_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    __audit_exclude__ = ("last_used_at",)
    __audit_redact__ = ("token_hash",)


class LoginThrottle(Base):
    """Recent failed logins for one username or address; locks it out for a while."""

    __tablename__ = "core_login_throttle"
    __audited__ = False  # failed logins are audited as events

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
