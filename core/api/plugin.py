"""The JSON API's own endpoints as a built-in plugin: the OpenAPI document."""
from flask import Blueprint, current_app

from core.api.base import ApiBlueprint, json_response
from core.api.openapi import openapi_document
from core.plugins import hookimpl
from core.security import public


def create_blueprint() -> Blueprint:
    """The ``api_core`` blueprint at /api/v1 (made anew for every app build)."""
    bp = ApiBlueprint("core", __name__)

    @bp.get("/openapi.json")
    @public
    def openapi():
        return json_response(openapi_document(current_app))

    return bp


@hookimpl
def register_api():
    return [create_blueprint()]
