"""Hello's JSON endpoints under /api/v1/hello."""
import os

from core import ApiBlueprint, documented, json_response, paged, require, session

from kontor_hello import services
from kontor_hello.permissions import READ
from kontor_hello.schemas import GreetingSchema

api = ApiBlueprint("hello", __name__)


@api.get("/greetings")
@require(READ)
@documented("List the greetings", response=GreetingSchema, many=True)
def greetings():
    return paged(services.list_greetings(session), next_cursor=None, schema=GreetingSchema())


@api.get("/ping")
@require(READ)
@documented("Which server process answered")
def ping():
    return json_response({"pid": os.getpid()})
