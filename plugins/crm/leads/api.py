"""The leads' JSON endpoints under /api/v1/crm/leads."""
from __future__ import annotations

from flask_login import current_user

from core import (Forbidden, documented, gettext as _, has_permission, json_response, load_body, load_query, paged,
                  require, session as db, transaction)

from plugins.crm.leads import services
from plugins.crm.leads.schemas import (ConversionSchema, ConvertSchema, DisqualifySchema, DuplicateSchema,
                                       LeadQuerySchema, LeadSchema)
from plugins.crm.permissions import LEAD_READ, LEAD_WRITE, OPPORTUNITY_WRITE
from plugins.crm.web import api


def _lead(lead_id: int):
    return services.get_lead(db, lead_id, user=current_user)


def _dump(lead, duplicates=None) -> dict:
    body = LeadSchema().dump(lead)
    if duplicates is not None:
        body["possible_duplicates"] = DuplicateSchema().dump(duplicates, many=True)
    return body


@api.get("/leads")
@require(LEAD_READ)
@documented("List the leads you may see (search, filter by status, source, owner, tag)", query=LeadQuerySchema,
            response=LeadSchema, many=True)
def api_leads():
    args = load_query(LeadQuerySchema())
    page = services.list_leads(db, user=current_user, **args)
    return paged(page.rows, next_cursor=page.next_cursor, schema=LeadSchema())


@api.get("/leads/<int:lead_id>")
@require(LEAD_READ)
@documented("Get a lead", response=LeadSchema)
def api_lead(lead_id: int):
    return json_response(_dump(_lead(lead_id)))


@api.post("/leads")
@require(LEAD_WRITE)
@documented("Create a lead; the answer lists possible duplicates", body=LeadSchema, response=LeadSchema,
            status=201)
def api_lead_create():
    data = load_body(LeadSchema())
    with transaction():
        lead = services.create_lead(db, data, user=current_user)
        duplicates = services.find_duplicates(db, lead, user=current_user, exclude_id=lead.id)
    return json_response(_dump(lead, duplicates), 201)


@api.patch("/leads/<int:lead_id>")
@require(LEAD_WRITE)
@documented("Change some fields of a lead", body=LeadSchema, response=LeadSchema)
def api_lead_update(lead_id: int):
    lead = _lead(lead_id)
    data = load_body(LeadSchema(), partial=True)
    with transaction():
        services.update_lead(db, lead, data, user=current_user, partial=True)
    return json_response(_dump(lead))


@api.post("/leads/<int:lead_id>/convert")
@require(LEAD_WRITE)
@documented("Qualify a lead into an opportunity for a new or an existing party", body=ConvertSchema,
            response=ConversionSchema, status=201)
def api_lead_convert(lead_id: int):
    lead = _lead(lead_id)
    if not has_permission(OPPORTUNITY_WRITE):
        raise Forbidden(_("Qualifying a lead opens an opportunity, which you may not do."))
    data = load_body(ConvertSchema())
    with transaction():
        opportunity, party = services.convert_lead(db, lead, user=current_user, **data)
    body = ConversionSchema().dump({"lead": lead, "opportunity_id": opportunity.id, "party_id": party.id})
    return json_response(body, 201)


@api.post("/leads/<int:lead_id>/disqualify")
@require(LEAD_WRITE)
@documented("Disqualify a lead, saying why", body=DisqualifySchema, response=LeadSchema)
def api_lead_disqualify(lead_id: int):
    lead = _lead(lead_id)
    data = load_body(DisqualifySchema())
    with transaction():
        services.disqualify_lead(db, lead, data["reason"], user=current_user)
    return json_response(_dump(lead))
