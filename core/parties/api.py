"""JSON endpoints of parties under /api/v1/parties (the same services as the pages)."""
from __future__ import annotations

from flask import Blueprint, current_app

from core.api.base import API_PREFIX, documented, json_object, json_response, load_query, paged
from core.db import session as db
from core.errors import InvalidInput, NotFound
from core.parties import services
from core.parties.schemas import MergeSchema, PartyQuerySchema, PartySchema, load
from core.security import require
from core.web.transaction import transaction




def create_blueprint() -> Blueprint:
    """The ``api_parties`` blueprint at /api/v1/parties."""
    bp = Blueprint("api_parties", __name__, url_prefix=f"{API_PREFIX}/parties")
    schema = PartySchema()

    def party(party_id: int):
        return services.get_party(db, party_id)

    def _party_to_keep(party_id: int):
        try:
            return services.get_party(db, party_id)
        except NotFound as exc:
            # a missing party to keep is bad input naming the field, not a missing address
            raise InvalidInput(exc.message, field="into") from None

    @bp.get("")
    @require("core.party.read")
    @documented("List parties (keyset pages; search with q, sort by name, created or city)",
                response=PartySchema, many=True, query=PartyQuerySchema)
    def list_parties():
        args = load_query(PartyQuerySchema())
        page = services.list_parties(db, **args)
        return paged(page.rows, next_cursor=page.next_cursor, schema=schema)

    @bp.post("")
    @require("core.party.write")
    @documented("Create a party", body=PartySchema, response=PartySchema, status=201)
    def create_party():
        with transaction():
            created = services.create_party(db, json_object())
        return json_response(schema.dump(created), 201)

    @bp.get("/<int:party_id>")
    @require("core.party.read")
    @documented("Get a party", response=PartySchema)
    def get_party(party_id: int):
        return json_response(schema.dump(party(party_id)))

    @bp.patch("/<int:party_id>")
    @require("core.party.write")
    @documented("Change some fields of a party", body=PartySchema, response=PartySchema)
    def patch_party(party_id: int):
        target = party(party_id)
        with transaction():
            services.update_party(db, target, json_object(), partial=True)
        return json_response(schema.dump(target))

    @bp.post("/<int:party_id>/merge")
    @require("core.party.merge")
    @documented("Merge a duplicate party into another and retire it", body=MergeSchema, response=PartySchema)
    def merge_party(party_id: int):
        source = party(party_id)
        into = load(MergeSchema(), json_object())["into"]
        target = _party_to_keep(into)
        with transaction():
            services.merge_parties(db, source, target, on_merging=current_app.extensions["kontor"].pm.hook.party_merging)
        return json_response(schema.dump(target))

    return bp
