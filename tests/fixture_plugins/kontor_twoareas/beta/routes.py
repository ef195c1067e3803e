"""The page of twoareas."""
from flask import Blueprint

from core import require

bp = Blueprint("twoareas", __name__, url_prefix="/twoareas")


@bp.get("/")
@require("twoareas.note.read")
def index():
    return "The notes of two areas."
