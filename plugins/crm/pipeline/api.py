"""JSON endpoints of the pipeline: /api/v1/crm/stages, /opportunities, /reports/forecast."""
from __future__ import annotations

from flask_login import current_user

from core import documented, json_response, keyset_page, load_body, load_query, paged, require, session as db, transaction

from plugins.crm import permissions as p
from plugins.crm.pipeline import services
from plugins.crm.pipeline.models import Opportunity
from plugins.crm.pipeline.schemas import (ForecastQuerySchema, OpportunityQuerySchema, OpportunitySchema,
                                          StageChangeSchema, StageSchema)
from plugins.crm.web import api


def _opportunity(opportunity_id: int) -> Opportunity:
    return services.get_opportunity(db, opportunity_id, user=current_user)


def _jsonable(data):
    if isinstance(data, dict):
        return {key: _jsonable(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_jsonable(value) for value in data]
    if hasattr(data, "as_tuple"):  # Decimal
        return str(data)
    return data


stage_schema = StageSchema()
schema = OpportunitySchema()


@api.get("/stages")
@require(p.OPPORTUNITY_READ)
@documented("List the pipeline stages in order", response=StageSchema, many=True)
def api_stages():
    return paged(services.list_stages(db, include_inactive=True), next_cursor=None, schema=stage_schema)


@api.post("/stages")
@require(p.STAGE_MANAGE)
@documented("Add a pipeline stage", body=StageSchema, response=StageSchema, status=201)
def api_stage_create():
    data = load_body(stage_schema)
    with transaction():
        stage = services.create_stage(db, data)
    return json_response(stage_schema.dump(stage), 201)


@api.patch("/stages/<int:stage_id>")
@require(p.STAGE_MANAGE)
@documented("Change a pipeline stage", body=StageSchema, response=StageSchema)
def api_stage_update(stage_id: int):
    data = load_body(stage_schema, partial=True)
    with transaction():
        stage = services.get_stage(db, stage_id)
        services.update_stage(db, stage, data)
    return json_response(stage_schema.dump(stage))


@api.get("/opportunities")
@require(p.OPPORTUNITY_READ)
@documented("List the opportunities you may see (newest first, keyset pages)", response=OpportunitySchema,
            many=True, query=OpportunityQuerySchema)
def api_opportunities():
    args = load_query(OpportunityQuerySchema())
    filters = services.Filters(q=args.get("q", ""), stage_id=args.get("stage_id"), owner_id=args.get("owner_id"),
                               close_month=args.get("close_month", ""), status=args.get("status", ""))
    page = keyset_page(db, services.opportunities_query(filters, current_user), sort_keys={"created": Opportunity.id},
                       id_column=Opportunity.id, sort="-created", cursor=args.get("after"), size=args["limit"])
    return paged(page.rows, next_cursor=page.next_cursor, schema=schema)


@api.post("/opportunities")
@require(p.OPPORTUNITY_WRITE)
@documented("Create an opportunity", body=OpportunitySchema, response=OpportunitySchema, status=201)
def api_opportunity_create():
    data = load_body(schema)
    with transaction():
        created = services.create_opportunity(
            db, party=data["party_id"], title=data["title"], owner_id=data.get("owner_id", current_user.id),
            expected_revenue=data.get("expected_revenue"), currency=data.get("currency"),
            expected_close=data.get("expected_close"), stage=data.get("stage_id"),
            campaign_id=data.get("campaign_id"), probability=data.get("probability"), discount=data.get("discount"))
    return json_response(schema.dump(created), 201)


@api.get("/opportunities/<int:opportunity_id>")
@require(p.OPPORTUNITY_READ)
@documented("Get an opportunity", response=OpportunitySchema)
def api_opportunity(opportunity_id: int):
    return json_response(schema.dump(_opportunity(opportunity_id)))


@api.patch("/opportunities/<int:opportunity_id>")
@require(p.OPPORTUNITY_WRITE)
@documented("Change some fields of an opportunity (a stage_id moves it, like the stage endpoint)",
            body=OpportunitySchema, response=OpportunitySchema)
def api_opportunity_update(opportunity_id: int):
    found = _opportunity(opportunity_id)
    data = load_body(schema, partial=True)
    with transaction():
        services.update_opportunity(db, found, data)
    return json_response(schema.dump(found))


@api.post("/opportunities/<int:opportunity_id>/stage")
@require(p.OPPORTUNITY_WRITE)
@documented("Move an opportunity to a stage (lost stages need lost_reason)", body=StageChangeSchema,
            response=OpportunitySchema)
def api_opportunity_stage(opportunity_id: int):
    found = _opportunity(opportunity_id)
    data = load_body(StageChangeSchema())
    with transaction():
        services.change_stage(db, found, services.get_stage(db, data["stage_id"]), lost_reason=data["lost_reason"])
    return json_response(schema.dump(found))


@api.get("/reports/forecast")
@require(p.REPORT_READ)
@documented("Weighted pipeline by month and owner, won/lost by month and lost reason (per currency)",
            query=ForecastQuerySchema)
def api_forecast():
    args = load_query(ForecastQuerySchema())
    filters = services.Filters(q=args.get("q", ""), owner_id=args.get("owner_id"))
    return json_response(_jsonable(services.forecast(db, filters, current_user)))
