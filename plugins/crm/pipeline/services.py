"""Stages and opportunities: the rules of the pipeline, shared by pages, API, CLI and other areas."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defaultload

from core import Company, KontorError, company_member_ids, current_company_id, N_, NotFound, Party, User, current_actor, gettext as _, hooks, utcnow

from plugins.crm import timeline
from plugins.crm.pipeline import approvals
from plugins.crm.access import every_owner, may_see, visible
from plugins.crm.defaults import in_company_language, read_data_csv, translated
from plugins.crm.pipeline.models import STATUS_LABELS, Opportunity, Stage

MAX_REVENUE = Decimal("9999999999999999.99")
#: The largest sequence a stage takes (the API documents the same bound).
MAX_SEQUENCE = 100000


# -- Small lookups --


def party_model():
    """The core's Party model."""
    return Party


def user_model():
    """The core's User model."""
    return User


def company_currency(db: Session) -> str:
    """The current company's base currency (the default of a new opportunity)."""
    company = db.get(Company, current_company_id(db))
    return company.base_currency if company is not None else "EUR"


def actor_id() -> int | None:
    """The id of the acting user (``core.current_actor()``), if a user acts (who did the change)."""
    actor = current_actor()
    return actor.id if actor is not None else None


def user_choices(db: Session) -> list[tuple[int, str]]:
    """(id, name) of the active users who work in the current company, for owner and assignee pickers."""
    users = db.execute(select(User).where(User.active.is_(True),
                                          User.id.in_(company_member_ids(current_company_id(db))))
                       .order_by(func.coalesce(func.nullif(User.full_name, ""), User.username))).scalars()
    return [(user.id, user.full_name or user.username) for user in users]


def _stored_id(value: Any) -> int | None:
    """``value`` as a record id a table can hold, or None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _user_exists(db: Session, user_id: Any) -> bool:
    user_id = _stored_id(user_id)
    if user_id is None:
        return False
    user = db.get(User, user_id)
    return user is not None and bool(user.active)


def campaign_choices(db: Session) -> list[tuple[int, str]] | None:
    """The campaigns to attribute a deal to, or None when the campaigns area is not there."""
    try:
        from plugins.crm.campaigns import services as campaigns
    except ImportError:
        return None
    choose = getattr(campaigns, "campaign_choices", None)
    return list(choose(db)) if callable(choose) else None


# -- Stages --


def list_stages(db: Session, *, include_inactive: bool = False) -> list[Stage]:
    """The stages in pipeline order."""
    query = select(Stage).order_by(Stage.sequence, Stage.id)
    if not include_inactive:
        query = query.where(Stage.active.is_(True))
    return list(db.execute(query).scalars())


def get_stage(db: Session, stage_id: Any) -> Stage:
    """The stage with ``stage_id``; :class:`NotFound` naming ``stage_id`` otherwise."""
    try:
        stage = db.get(Stage, int(stage_id))
    except (TypeError, ValueError):
        stage = None
    if stage is None:
        raise NotFound(_("Choose a stage."), field="stage_id")
    return stage


def default_stage(db: Session) -> Stage:
    """The first open stage: where new opportunities start."""
    stage = db.execute(select(Stage).where(Stage.active.is_(True), Stage.is_won.is_(False), Stage.is_lost.is_(False))
                       .order_by(Stage.sequence, Stage.id).limit(1)).scalar()
    if stage is None:
        raise KontorError(_("Set up at least one open pipeline stage first."), field="stage_id", status=409)
    return stage


def _clean_stage(data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            raise KontorError(_("Name the stage."), field="name", status=422)
        if len(name) > 80:
            raise KontorError(_("A stage name has at most 80 characters."), field="name", status=422)
        clean["name"] = name
    for key, low, high in (("sequence", 0, MAX_SEQUENCE), ("probability", 0, 100)):
        if key in data:
            try:
                value = int(str(data[key]).strip())
            except (TypeError, ValueError):
                raise KontorError(_("Enter a whole number."), field=key, status=422) from None
            if not low <= value <= high:
                raise KontorError(_("Enter a number from %(low)s to %(high)s.", low=low, high=high),
                                  field=key, status=422)
            clean[key] = value
    for key in ("is_won", "is_lost", "fold", "active"):
        if key in data:
            clean[key] = _truthy(data[key])
    return clean


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def _check_stage(stage: Stage) -> None:
    if stage.is_won and stage.is_lost:
        raise KontorError(_("A stage is either won or lost, not both."), field="is_lost", status=422)


def create_stage(db: Session, data: dict[str, Any]) -> Stage:
    """Add a stage (name, sequence, probability, is_won, is_lost, fold)."""
    clean = _clean_stage({"name": "", **data})
    stage = Stage(name=clean["name"], sequence=clean.get("sequence", _next_sequence(db)),
                  probability=clean.get("probability", 0), is_won=clean.get("is_won", False),
                  is_lost=clean.get("is_lost", False), fold=clean.get("fold", False), active=clean.get("active", True))
    _check_stage(stage)
    db.add(stage)
    db.flush()
    return stage


def _next_sequence(db: Session) -> int:
    """After the last stage, within the range a sequence is given in (ties are ordered by id)."""
    return min((db.execute(select(func.max(Stage.sequence))).scalar() or 0) + 10, MAX_SEQUENCE)


def update_stage(db: Session, stage: Stage, data: dict[str, Any]) -> Stage:
    """Change a stage; a stage still holding opportunities keeps its won/lost nature."""
    clean = _clean_stage(data)
    in_use = _stage_count(db, stage.id) > 0
    for key in ("is_won", "is_lost"):
        if key in clean and clean[key] != getattr(stage, key) and in_use:
            raise KontorError(_("Move the opportunities out of this stage before changing whether it is won or lost."),
                              field=key, status=409)
    for key, value in clean.items():
        setattr(stage, key, value)
    _check_stage(stage)
    if not stage.active and in_use:
        raise KontorError(_("Move the opportunities out of this stage before archiving it."), field="active",
                          status=409)
    db.flush()
    _keep_an_open_stage(db)
    return stage


def _keep_an_open_stage(db: Session) -> None:
    """New opportunities start in the first open stage: there must always be one."""
    if db.execute(select(func.count()).select_from(Stage).where(
            Stage.active.is_(True), Stage.is_won.is_(False), Stage.is_lost.is_(False))).scalar_one() == 0:
        raise KontorError(_("Keep at least one active stage that is neither won nor lost."), field="active",
                          status=409)


def _stage_count(db: Session, stage_id: int) -> int:
    """How many opportunities (every salesperson's) are in the stage."""
    with every_owner():
        return db.execute(select(func.count()).select_from(Opportunity)
                          .where(Opportunity.stage_id == stage_id)).scalar_one()


def delete_stage(db: Session, stage: Stage) -> None:
    """Delete a stage no opportunity is in."""
    if _stage_count(db, stage.id):
        raise KontorError(_("Move the opportunities out of this stage before deleting it."), field="stage_id",
                          status=409)
    db.delete(stage)
    db.flush()
    _keep_an_open_stage(db)


def move_stage(db: Session, stage: Stage, direction: int) -> None:
    """Swap ``stage`` with its neighbour before (-1) or after (+1) it."""
    stages = list_stages(db, include_inactive=True)
    index = next(i for i, s in enumerate(stages) if s.id == stage.id)
    other = index + (1 if direction > 0 else -1)
    if not 0 <= other < len(stages):
        return
    stages[index], stages[other] = stages[other], stages[index]
    for position, item in enumerate(stages, start=1):
        if item.sequence != position * 10:
            item.sequence = position * 10
    db.flush()


def load_default_stages(db: Session) -> None:
    """The default pipeline of ``data/pipeline_stages.csv`` (New → Qualified → Proposal → Negotiation →
    Won / Lost) for the current company, named in its language; once (a company with stages keeps them)."""
    if db.execute(select(func.count()).select_from(Stage)).scalar_one():
        return
    with in_company_language(db):
        for position, row in enumerate(read_data_csv("pipeline_stages.csv"), start=1):
            db.add(Stage(name=translated(row["name"]), sequence=position * 10, probability=int(row["probability"]),
                         is_won=row["is_won"] == "1", is_lost=row["is_lost"] == "1", fold=False, active=True))
    db.flush()


# -- Opportunities --


def _clean_money(value: Any, key: str = "expected_revenue") -> Decimal:
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, float):
        value = str(value)
    try:
        amount = Decimal(str(value).strip().replace(" ", "")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise KontorError(_("Enter an amount such as 1250.00."), field=key, status=422) from None
    if not amount.is_finite():
        raise KontorError(_("Enter an amount such as 1250.00."), field=key, status=422)
    if amount < 0:
        raise KontorError(_("The amount cannot be negative."), field=key, status=422)
    if amount > MAX_REVENUE:
        raise KontorError(_("The amount is too large."), field=key, status=422)
    if amount != amount.quantize(Decimal("0.01")):
        raise KontorError(_("Give the amount to the cent (two decimals at most)."), field=key, status=422)
    return amount.quantize(Decimal("0.01"))


def _clean_currency(db: Session, value: Any) -> str:
    code = str(value or "").strip().upper() or company_currency(db)
    if code not in list_currencies():
        raise KontorError(_("Choose a currency (ISO 4217 code such as DKK or EUR)."), field="currency", status=422)
    return code


def _clean_probability(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise KontorError(_("Enter a whole number from 0 to 100."), field="probability", status=422) from None
    if not 0 <= number <= 100:
        raise KontorError(_("Enter a whole number from 0 to 100."), field="probability", status=422)
    return number


def _clean_discount(value: Any) -> Decimal:
    """A discount in percent: from 0 to 100, to the hundredth (empty is none)."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, float):
        value = str(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(" ", ""))
    except InvalidOperation:
        raise KontorError(_("Enter a percentage such as 12.5."), field="discount", status=422) from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise KontorError(_("Enter a percentage from 0 to 100."), field="discount", status=422)
    if number != number.quantize(Decimal("0.01")):
        raise KontorError(_("Give the discount to the hundredth of a percent (two decimals at most)."),
                          field="discount", status=422)
    return number.quantize(Decimal("0.01"))


def _clean_date(value: Any, key: str = "expected_close") -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise KontorError(_("Enter a date as YYYY-MM-DD."), field=key, status=422) from None


def _clean_title(value: Any) -> str:
    title = str(value or "").strip()
    if not title:
        raise KontorError(_("Give the opportunity a title."), field="title", status=422)
    if len(title) > 200:
        raise KontorError(_("A title has at most 200 characters."), field="title", status=422)
    return title


def _party(db: Session, party: Any) -> int:
    party_id = _stored_id(getattr(party, "id", party))
    found = db.get(Party, party_id) if party_id is not None else None
    if found is None or not found.active:
        raise KontorError(_("Choose a customer."), field="party_id", status=422)
    return party_id


def _campaign(db: Session, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        campaign_id = int(value)
    except (TypeError, ValueError):
        raise KontorError(_("Choose a campaign."), field="campaign_id", status=422) from None
    choices = campaign_choices(db)
    if choices is not None and campaign_id not in {pk for pk, _name in choices}:
        raise KontorError(_("Choose a campaign."), field="campaign_id", status=422)
    return campaign_id


def _owner(db: Session, value: Any) -> int:
    if not _user_exists(db, value):
        raise KontorError(_("Choose an owner."), field="owner_id", status=422)
    return int(value)


def create_opportunity(db: Session, *, party, title, owner_id, expected_revenue=None, currency=None,
                       expected_close=None, stage=None, lead_id=None, campaign_id=None,
                       probability=None, discount=None) -> Opportunity:
    """Open an opportunity for ``party`` (a Party or its id), owned by ``owner_id``.

    ``stage`` (a Stage or its id) defaults to the first open stage; ``currency`` to the company's;
    ``probability`` to the stage's; ``discount`` (in percent) to none. It cannot start in a lost stage
    (that needs a reason: use :func:`change_stage`). A "stage" event goes on the timeline.
    """
    stage_obj = default_stage(db) if stage in (None, "") else (stage if isinstance(stage, Stage) else get_stage(db, stage))
    if stage_obj.is_lost:
        raise KontorError(_("An opportunity cannot start lost."), field="stage_id", status=422)
    opportunity = Opportunity(
        party_id=_party(db, party), title=_clean_title(title), owner_id=_owner(db, owner_id),
        expected_revenue=_clean_money(expected_revenue), discount=_clean_discount(discount),
        currency=_clean_currency(db, currency), expected_close=_clean_date(expected_close), stage_id=stage_obj.id,
        probability=stage_obj.probability if probability in (None, "") else _clean_probability(probability),
        lost_reason="", lead_id=lead_id, campaign_id=_campaign(db, campaign_id),
        closed_at=utcnow() if stage_obj.is_won else None,
    )
    db.add(opportunity)
    db.flush()
    opportunity.stage = stage_obj
    if stage_obj.is_won:
        approvals.check_may_win(db, opportunity)
    timeline.record(db, "stage", title=N_("Opportunity opened in %(stage)s"), title_args={"stage": stage_obj.name},
                    party_id=opportunity.party_id, opportunity_id=opportunity.id, lead_id=lead_id,
                    user_id=actor_id())
    if stage_obj.is_won:
        hooks().crm_opportunity_won(opportunity=opportunity, session=db)
    return opportunity


UPDATABLE = ("party_id", "title", "expected_revenue", "discount", "currency", "probability", "expected_close",
             "owner_id", "campaign_id")


def update_opportunity(db: Session, opportunity: Opportunity, data: dict[str, Any]) -> Opportunity:
    """Change the fields given in ``data``; a ``stage_id`` in it goes through :func:`change_stage`,
    after the other fields. A change to a field the approval rules read asks for approval again."""
    cleaners = {
        "party_id": lambda v: _party(db, v), "title": _clean_title, "expected_revenue": _clean_money,
        "discount": _clean_discount, "currency": lambda v: _clean_currency(db, v), "probability": _clean_probability,
        "expected_close": _clean_date, "owner_id": lambda v: _owner(db, v), "campaign_id": lambda v: _campaign(db, v),
    }
    clean = {key: cleaners[key](data[key]) for key in UPDATABLE if key in data}
    stage_id = data.get("stage_id")
    moving = stage_id not in (None, "") and int_or_none(stage_id) != opportunity.stage_id
    if not moving and "lost_reason" in data and opportunity.stage.is_lost:
        reason = str(data.get("lost_reason") or "").strip()
        if not reason:
            raise KontorError(_("Say why the opportunity was lost."), field="lost_reason", status=422)
        clean["lost_reason"] = reason[:200]
    for key, value in clean.items():
        setattr(opportunity, key, value)
    db.flush()
    if moving:  # after the fields: a deal is won with the values it is won with (and approved for)
        change_stage(db, opportunity, get_stage(db, stage_id), lost_reason=data.get("lost_reason"))
        if "probability" in clean:
            opportunity.probability = clean["probability"]
            db.flush()
    else:
        approvals.changed(db, opportunity)
    return opportunity


def int_or_none(value: Any) -> int | None:
    """``value`` as an int, or None when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def change_stage(db: Session, opportunity: Opportunity, stage: Stage | int, *, lost_reason: str | None = None,
                 user_id: int | None = None) -> Opportunity:
    """Move ``opportunity`` to ``stage``: the one way a deal moves along the pipeline.

    The probability follows the stage; entering a won or lost stage sets ``closed_at`` (reopening
    clears it); a lost stage needs ``lost_reason``; a won stage needs the approval of any rule that
    applies (409 otherwise). A "stage" event goes on the timeline and the ``crm_opportunity_won`` /
    ``crm_opportunity_lost`` hooks run in the same transaction.
    """
    if not isinstance(stage, Stage):
        stage = get_stage(db, stage)
    if not stage.active:
        raise KontorError(_("Choose a stage."), field="stage_id", status=422)
    previous = opportunity.stage
    if stage.is_won and not (previous is not None and previous.id == stage.id):
        approvals.check_may_win(db, opportunity)
    reason = str(lost_reason or "").strip()
    if stage.is_lost and not reason:
        raise KontorError(_("Say why the opportunity was lost."), field="lost_reason", status=422)
    if len(reason) > 200:
        raise KontorError(_("A reason has at most 200 characters."), field="lost_reason", status=422)
    if previous is not None and previous.id == stage.id:
        if stage.is_lost and reason != opportunity.lost_reason:
            opportunity.lost_reason = reason
            db.flush()
        return opportunity
    opportunity.stage_id = stage.id
    opportunity.stage = stage
    opportunity.probability = stage.probability
    opportunity.lost_reason = reason if stage.is_lost else ""
    opportunity.closed_at = utcnow() if stage.is_closed else None
    db.flush()
    timeline.record(db, "stage", title=N_("Stage: %(old)s → %(new)s"),
                    title_args={"old": previous.name if previous else "—", "new": stage.name},
                    body=reason if stage.is_lost else "",
                    party_id=opportunity.party_id, opportunity_id=opportunity.id,
                    user_id=user_id if user_id is not None else actor_id())
    if stage.is_won:
        hooks().crm_opportunity_won(opportunity=opportunity, session=db)
    elif stage.is_lost:
        hooks().crm_opportunity_lost(opportunity=opportunity, session=db)
    else:
        approvals.changed(db, opportunity)
    return opportunity


def get_opportunity(db: Session, opportunity_id: Any, user=None) -> Opportunity:
    """The opportunity ``user`` (default: signed-in user) may see; :class:`NotFound` otherwise."""
    try:
        opportunity = db.get(Opportunity, int(opportunity_id))
    except (TypeError, ValueError):
        opportunity = None
    if opportunity is None or not may_see(opportunity, "opportunity", user=user):
        raise NotFound(_("There is no such opportunity."))
    return opportunity


def month_bounds(month: str) -> tuple[date, date | None]:
    """First day of ``month`` ("YYYY-MM") and first day of the next month (None after December
    9999, the last month a date can hold); a month that is not one is a 422 naming ``close_month``."""
    try:
        year, number = (int(part) for part in month.split("-"))
        start = date(year, number, 1)
    except (ValueError, TypeError):
        raise KontorError(_("Choose a month as YYYY-MM."), field="close_month", status=422) from None
    if (year, number) == (date.max.year, 12):
        return start, None
    return start, date(year + (number == 12), number % 12 + 1, 1)


@dataclass
class Filters:
    """The filters of the opportunity list, board, export and forecast."""

    q: str = ""
    stage_id: int | None = None
    owner_id: int | None = None
    close_month: str = ""
    status: str = ""  # "", "open", "won", "lost"

    @classmethod
    def from_args(cls, args) -> "Filters":
        """Read the filters from query arguments, ignoring malformed ones."""
        status = args.get("status", "")
        month = (args.get("close_month") or "").strip()
        if month:
            month_bounds(month)
        return cls(q=(args.get("q") or "").strip()[:100], stage_id=int_or_none(args.get("stage_id")),
                   owner_id=int_or_none(args.get("owner_id")), close_month=month,
                   status=status if status in STATUS_LABELS else "")

    def as_args(self) -> dict[str, Any]:
        """The non-empty filters as query arguments."""
        return {key: value for key, value in self.__dict__.items() if value not in (None, "")}


def opportunities_query(filters: Filters, user=None, *, entity=Opportunity):
    """A SELECT of the opportunities ``user`` may see, narrowed by ``filters``."""
    query = select(entity) if not isinstance(entity, (list, tuple)) else select(*entity)
    query = visible(query, "opportunity", Opportunity.owner_id, user=user)
    if filters.q:
        Party = party_model()
        words = filters.q.casefold()
        query = query.where(or_(func.lower(Opportunity.title).contains(filters.q.lower(), autoescape=True),
                                Opportunity.party_id.in_(select(Party.id).where(
                                    Party.search_text.contains(words, autoescape=True)))))
    if filters.stage_id:
        query = query.where(Opportunity.stage_id == filters.stage_id)
    if filters.owner_id:
        query = query.where(Opportunity.owner_id == filters.owner_id)
    if filters.close_month:
        start, end = month_bounds(filters.close_month)
        query = query.where(Opportunity.expected_close >= start)
        if end is not None:
            query = query.where(Opportunity.expected_close < end)
    if filters.status:
        closed = select(Stage.id)
        closed = {"open": closed.where(Stage.is_won.is_(False), Stage.is_lost.is_(False)),
                  "won": closed.where(Stage.is_won.is_(True)), "lost": closed.where(Stage.is_lost.is_(True))}
        query = query.where(Opportunity.stage_id.in_(closed[filters.status]))
    return query


# -- The board --


@dataclass
class Column:
    """One stage on the board: its totals (from SQL) and its first cards."""

    stage: Stage
    count: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)
    cards: list[Opportunity] = field(default_factory=list)
    more: bool = False


def card_load_options():
    """What a card shows and nothing more: the party and owner rows, without their tags and roles."""
    return (defaultload(Opportunity.party).lazyload(party_model().tags),
            defaultload(Opportunity.owner).lazyload(user_model().roles))


def column_totals(db: Session, filters: Filters, user=None) -> dict[int, tuple[int, dict[str, Decimal]]]:
    """Per stage id: (count, {currency: Σ expected revenue}), aggregated in SQL."""
    query = opportunities_query(filters, user, entity=(Opportunity.stage_id, Opportunity.currency,
                                                        func.count(Opportunity.id),
                                                        func.sum(Opportunity.expected_revenue)))
    query = query.group_by(Opportunity.stage_id, Opportunity.currency)
    result: dict[int, tuple[int, dict[str, Decimal]]] = {}
    for stage_id, currency, count, total in db.execute(query):
        count_so_far, totals = result.get(stage_id, (0, {}))
        totals[currency] = total or Decimal("0.00")
        result[stage_id] = (count_so_far + count, totals)
    return result


def column_cards(db: Session, stage_id: int, filters: Filters, user=None, *, after: int | None = None,
                 limit: int = 20) -> tuple[list[Opportunity], bool]:
    """Up to ``limit`` cards of one column, newest first, after the card with id ``after``."""
    query = opportunities_query(filters, user).where(Opportunity.stage_id == stage_id)
    if after:
        query = query.where(Opportunity.id < after)
    query = query.options(*card_load_options()).order_by(Opportunity.id.desc()).limit(limit + 1)
    rows = list(db.execute(query).unique().scalars())
    return rows[:limit], len(rows) > limit


def board(db: Session, filters: Filters, user=None, *, per_column: int = 20,
          stage_ids: set[int] | None = None) -> list[Column]:
    """The board's columns (all stages, or those in ``stage_ids``) with totals and first cards."""
    totals = column_totals(db, filters, user)
    columns = []
    for stage in list_stages(db):
        if stage_ids is not None and stage.id not in stage_ids:
            continue
        count, sums = totals.get(stage.id, (0, {}))
        column = Column(stage=stage, count=count, totals=dict(sorted(sums.items())))
        if count and not stage.fold:
            column.cards, column.more = column_cards(db, stage.id, filters, user, limit=per_column)
        columns.append(column)
    return columns


# -- Forecast --


def _month_key(value) -> str:
    return value.strftime("%Y-%m") if value else ""


def forecast(db: Session, filters: Filters, user=None) -> dict[str, Any]:
    """Weighted pipeline by expected close month and by owner, won/lost by month and lost reasons.

    Sums are per currency (no conversion): ``{"by_month": [{"month", "currency", "count",
    "revenue", "weighted"}], "by_owner": [...], "won_lost": [{"month", "currency", "won_count",
    "won_revenue", "lost_count", "lost_revenue"}], "lost_reasons": [{"reason", "count", "revenue", "currency"}],
    "funnel": [{"stage", "count"}]}``. Weighted = Σ round(revenue × probability / 100, 2).
    """
    open_filters = Filters(**{**filters.__dict__, "status": "open"})
    rows = db.execute(opportunities_query(open_filters, user, entity=(
        Opportunity.expected_close, Opportunity.owner_id, Opportunity.currency, Opportunity.expected_revenue,
        Opportunity.probability))).all()
    names = dict(user_choices(db))
    by_month: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal("0.00"), Decimal("0.00")])
    by_owner: dict[tuple[int, str], list] = defaultdict(lambda: [0, Decimal("0.00"), Decimal("0.00")])
    for close, owner, currency, revenue, probability in rows:
        weighted = (revenue * probability / 100).quantize(Decimal("0.01"))
        for bucket in (by_month[(_month_key(close), currency)], by_owner[(owner, currency)]):
            bucket[0] += 1
            bucket[1] += revenue
            bucket[2] += weighted
    closed_filters = Filters(**{**filters.__dict__, "status": ""})
    closed = db.execute(opportunities_query(closed_filters, user, entity=(
        Opportunity.closed_at, Opportunity.currency, Opportunity.expected_revenue, Opportunity.lost_reason,
        Stage.is_won, Stage.is_lost)).join(Stage, Stage.id == Opportunity.stage_id)
        .where(or_(Stage.is_won.is_(True), Stage.is_lost.is_(True)))).all()
    won_lost: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal("0.00"), 0, Decimal("0.00")])
    reasons: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal("0.00")])
    for closed_at, currency, revenue, reason, is_won, _is_lost in closed:
        bucket = won_lost[(_month_key(closed_at), currency)]
        if is_won:
            bucket[0] += 1
            bucket[1] += revenue
        else:
            bucket[2] += 1
            bucket[3] += revenue
            entry = reasons[(reason.strip() or _("(no reason)"), currency)]
            entry[0] += 1
            entry[1] += revenue
    counts = column_totals(db, Filters(**{**filters.__dict__, "status": ""}), user)
    funnel = [{"stage": stage.name, "count": counts.get(stage.id, (0, {}))[0]}
              for stage in list_stages(db) if not stage.is_lost]
    return {
        "by_month": [{"month": month, "currency": cur, "count": v[0], "revenue": v[1], "weighted": v[2]}
                     for (month, cur), v in sorted(by_month.items(), key=lambda item: (item[0][0] or "9999", item[0][1]))],
        "by_owner": [{"owner_id": owner, "owner": names.get(owner, str(owner)), "currency": cur, "count": v[0],
                      "revenue": v[1], "weighted": v[2]}
                     for (owner, cur), v in sorted(by_owner.items(), key=lambda item: (names.get(item[0][0], ""), item[0][1]))],
        "won_lost": [{"month": month, "currency": cur, "won_count": v[0], "won_revenue": v[1], "lost_count": v[2],
                      "lost_revenue": v[3]} for (month, cur), v in sorted(won_lost.items())],
        "lost_reasons": [{"reason": reason, "currency": cur, "count": v[0], "revenue": v[1]}
                         for (reason, cur), v in sorted(reasons.items(), key=lambda item: (-item[1][0], item[0]))],
        "funnel": funnel,
    }


# -- Customer 360 and party merging --


def open_opportunities_of_party(db: Session, party_id: int, user=None, limit: int = 10) -> list[Opportunity]:
    """The open opportunities of a party that ``user`` may see, soonest close first."""
    query = opportunities_query(Filters(status="open"), user).where(Opportunity.party_id == party_id)
    return list(db.execute(query.order_by(Opportunity.id.desc()).limit(limit)).unique().scalars())


def repoint_party(db: Session, source_id: int, target_id: int) -> None:
    """Move every opportunity of party ``source_id`` to ``target_id`` (a party merge), whoever owns it."""
    with every_owner():
        for opportunity in db.execute(select(Opportunity).where(Opportunity.party_id == source_id)).unique().scalars():
            opportunity.party_id = target_id
        db.flush()
