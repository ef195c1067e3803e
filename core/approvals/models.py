"""Approval rules and their steps, the requests of records, their tasks and standing delegations."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import Role, User
from core.company.scope import CompanyScoped
from core.db import Base, Money, UTCDateTime, utcnow

#: How a step names its approvers.
APPROVER_TYPES = ("role", "user", "manager")


class ApprovalRule(CompanyScoped, Base):
    """When records of ``kind`` need approval (``condition`` in the rule language; empty: always)
    and by whom: the steps, in order. Active rules are checked by ``sequence``."""

    __tablename__ = "core_approval_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120))
    condition: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sequence: Mapped[int] = mapped_column(Integer, default=10)

    steps: Mapped[list["ApprovalStep"]] = relationship(back_populates="rule", cascade="all, delete-orphan",
                                                       order_by="ApprovalStep.position", lazy="selectin")


class ApprovalStep(Base):
    """One step of a rule's chain: a role, a named user or the requester's manager approves.

    A step ``parallel`` with the previous one is asked at the same time, and both must approve. A
    step whose ``amount_limit`` covers the record's amount completes the chain when it approves.
    """

    __tablename__ = "core_approval_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("core_approval_rule.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    approver_type: Mapped[str] = mapped_column(String(10))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("core_role.id", ondelete="CASCADE"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), nullable=True)
    parallel: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_limit: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)

    rule: Mapped[ApprovalRule] = relationship(back_populates="steps")
    role: Mapped[Role | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")


class ApprovalRequest(CompanyScoped, Base):
    """A record's request for approval: ``state`` pending, approved, rejected, recalled, or none (the
    record changed and no rule applies any more); ``snapshot`` holds the values of the fields the
    rules read when it was (last) asked."""

    __tablename__ = "core_approval_request"
    __table_args__ = (Index("ix_core_approval_request_record", "kind", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"),
                                                        nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    requested_by: Mapped[User | None] = relationship(lazy="joined")
    tasks: Mapped[list["ApprovalTask"]] = relationship(back_populates="request", cascade="all, delete-orphan",
                                                       order_by="ApprovalTask.id", lazy="selectin")

    @property
    def record(self) -> str:
        """The record as the API names it: ``accounting.bill:5``."""
        return f"{self.kind}:{self.record_id}"


class ApprovalTask(Base):
    """One step of a rule asked of its approvers for one request.

    ``state``: waiting (an earlier step is not approved yet), pending, approved, rejected, skipped
    (an earlier approver's amount limit covered the amount), reset (the record changed: asked
    again in a new task) or closed (the request ended another way).
    """

    __tablename__ = "core_approval_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("core_approval_request.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("core_approval_rule.id", ondelete="SET NULL"),
                                                nullable=True)
    rule_name: Mapped[str] = mapped_column(String(120), default="")
    stage: Mapped[int] = mapped_column(Integer, default=0)
    approver_type: Mapped[str] = mapped_column(String(10))
    approver_label: Mapped[str] = mapped_column(String(200), default="")
    amount_limit: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="waiting", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[ApprovalRequest] = relationship(back_populates="tasks")
    decided_by: Mapped[User | None] = relationship(lazy="joined")
    assignees: Mapped[list["ApprovalAssignee"]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                              lazy="selectin", order_by="ApprovalAssignee.user_id")

    @property
    def assignee_ids(self) -> set[int]:
        return {a.user_id for a in self.assignees}


class ApprovalAssignee(Base):
    """A user who may decide a task: an approver the step named, or someone they delegated it to."""

    __tablename__ = "core_approval_assignee"

    task_id: Mapped[int] = mapped_column(ForeignKey("core_approval_task.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    delegated_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"),
                                                        nullable=True)

    task: Mapped[ApprovalTask] = relationship(back_populates="assignees")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class ApprovalAway(Base):
    """A user's standing delegation while away: tasks given to them from ``starts`` to ``ends``
    (inclusive) go to ``delegate`` too."""

    __tablename__ = "core_approval_away"

    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date] = mapped_column(Date)

    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id], lazy="joined")
