"""The core's shared data invoicing builds on: parties, the company's details and module settings.

The ``core`` facade carries neither parties nor the company row; an invoice needs both (the
customer's and the company's names, addresses and VAT ids), so every reach into the core's
submodules is gathered here, in one place.
"""
from core.company.models import Company
from core.company.services import get_company, setting_values
from core.parties.models import Party
from core.parties.services import create_party, search_parties

__all__ = ["Company", "Party", "create_party", "get_company", "search_parties", "setting_values"]
