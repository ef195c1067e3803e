"""The core's shared master data that leads build on: users, parties, tags and module settings.

The ``core`` facade does not carry parties, users or setting values; leads need all three (owners,
conversion into a party, the web-to-lead settings), so every reach into the core's submodules is
gathered here, in one place.
"""
from core.audit.recorder import write_records
from core.auth.models import User
from core.company.services import setting_values
from core.parties.models import Party, Tag
from core.parties.schemas import InvalidInput, TagList, load, normalise_vat_id, validate_email, validate_vat_id
from core.parties.services import create_party, search_parties, tags_named

__all__ = [
    "InvalidInput", "Party", "Tag", "TagList", "User", "create_party", "load", "normalise_vat_id",
    "search_parties", "setting_values", "tags_named", "validate_email", "validate_vat_id", "write_records",
]
