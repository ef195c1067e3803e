"""JSON endpoints of activities: /api/v1/crm/activities."""
from __future__ import annotations

from flask_login import current_user

from core import documented, json_response, keyset_page, load_body, load_query, paged, require, session as db, transaction

from plugins.crm import permissions as p
from plugins.crm.activities import services
from plugins.crm.activities.models import Activity
from plugins.crm.activities.schemas import ActivityDoneSchema, ActivityQuerySchema, ActivitySchema
from plugins.crm.web import api


schema = ActivitySchema()


def _activity(activity_id: int) -> Activity:
    """The activity the caller may see; a 404 problem otherwise (others' activities do not exist)."""
    return services.get_activity(db, activity_id, current_user)


def _changeable(activity_id: int) -> Activity:
    """The activity the caller may change; 404 when they may not see it, 403 when they only may see it."""
    found = _activity(activity_id)
    services.refuse_unless_may_change(found, current_user)
    return found


@api.get("/activities")
@require(p.ACTIVITY_READ)
@documented("List the activities you may see (view: open, overdue, today, upcoming, done, all)",
            response=ActivitySchema, many=True, query=ActivityQuerySchema)
def api_activities():
    args = load_query(ActivityQuerySchema())
    query = services.activities_query(current_user, view=args["view"], assignee_id=args.get("assignee_id"),
                                      kind=args.get("kind", ""), q=args["q"])
    page = keyset_page(db, query, sort_keys={"created": Activity.id}, id_column=Activity.id, sort="-created",
                       cursor=args.get("after"), size=args["limit"])
    return paged(page.rows, next_cursor=page.next_cursor, schema=schema)


@api.post("/activities")
@require(p.ACTIVITY_WRITE)
@documented("Plan or log an activity", body=ActivitySchema, response=ActivitySchema, status=201)
def api_activity_create():
    data = load_body(schema)
    data.setdefault("assignee_id", current_user.id)
    with transaction():
        created = services.create_activity(db, data, user=current_user)
    return json_response(schema.dump(created), 201)


@api.get("/activities/<int:activity_id>")
@require(p.ACTIVITY_READ)
@documented("Get an activity", response=ActivitySchema)
def api_activity(activity_id: int):
    return json_response(schema.dump(_activity(activity_id)))


@api.patch("/activities/<int:activity_id>")
@require(p.ACTIVITY_WRITE)
@documented("Change some fields of an activity (done: true ticks it off)", body=ActivitySchema,
            response=ActivitySchema)
def api_activity_update(activity_id: int):
    found = _changeable(activity_id)
    data = load_body(schema, partial=True)
    with transaction():
        services.update_activity(db, found, data, user=current_user)
    return json_response(schema.dump(found))


@api.post("/activities/<int:activity_id>/done")
@require(p.ACTIVITY_WRITE)
@documented("Tick an activity off (done: true, the default) or reopen it (done: false)",
            body=ActivityDoneSchema, response=ActivitySchema)
def api_activity_done(activity_id: int):
    found = _changeable(activity_id)
    data = load_body(ActivityDoneSchema())
    with transaction():
        services.set_done(db, found, data["done"], user=current_user)
    return json_response(schema.dump(found))


@api.delete("/activities/<int:activity_id>")
@require(p.ACTIVITY_WRITE)
@documented("Delete an activity", status=204)
def api_activity_delete(activity_id: int):
    found = _changeable(activity_id)
    with transaction():
        services.delete_activity(db, found, user=current_user)
    return "", 204
