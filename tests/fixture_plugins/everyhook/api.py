"""The JSON endpoints of everyhook, on one module-level API blueprint at /api/v1/everyhook."""
from core import ApiBlueprint, ApiError, documented, json_response, load_body, load_query, paged, require, session
from everyhook.schemas import ThingQuerySchema, ThingSchema
from everyhook.services import add_thing, all_things

api = ApiBlueprint("everyhook", __name__)


@api.get("/things")
@require("everyhook.thing.read")
@documented("List things", response=ThingSchema, many=True, query=ThingQuerySchema)
def list_things():
    query = load_query(ThingQuerySchema())
    things = [t for t in all_things(session) if query["name"] in (None, t.name)]
    return paged(things, next_cursor=None, schema=ThingSchema())


@api.post("/things")
@require("everyhook.thing.write")
@documented("Add a thing", body=ThingSchema, response=ThingSchema, status=201)
def create_thing():
    data = load_body(ThingSchema())
    thing = add_thing(session, data["name"], data["party_id"])
    session.commit()
    return json_response(ThingSchema().dump(thing), 201)


@api.get("/things/<int:thing_id>")
@require("everyhook.thing.read")
@documented("Read a thing", response=ThingSchema)
def read_thing(thing_id):
    from everyhook.models import Thing

    thing = session.get(Thing, thing_id)
    if thing is None:
        raise ApiError(404, "Not found", "No such thing.")
    return json_response(ThingSchema().dump(thing))
