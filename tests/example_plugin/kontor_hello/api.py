"""Hello's JSON endpoints under /api/v1/hello."""
import os

from core import ApiBlueprint, documented, json_response, require, session

from kontor_hello import services
from kontor_hello.permissions import READ
from kontor_hello.schemas import GreetingSchema


def create_api():
    """The ``api_hello`` blueprint (made anew for every app build)."""
    bp = ApiBlueprint("hello", __name__)

    @bp.get("/greetings")
    @require(READ)
    @documented("List the greetings", response=GreetingSchema, many=True)
    def greetings():
        return json_response({"items": GreetingSchema().dump(services.list_greetings(session), many=True)})

    @bp.get("/ping")
    @require(READ)
    @documented("Which server process answered")
    def ping():
        return json_response({"pid": os.getpid()})

    return bp
