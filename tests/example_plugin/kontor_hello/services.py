"""Greetings: listing, adding, and the default set loaded on install."""
import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import InvalidInput, gettext as _

from kontor_hello.models import Greeting

LANGUAGES = ("en", "da", "de", "pl", "fi", "sv")
DEFAULT_DATA = Path(__file__).parent / "data" / "greetings.json"


def list_greetings(db: Session, language: str | None = None) -> list[Greeting]:
    """The greetings, oldest first; only those in ``language`` when given."""
    query = select(Greeting).order_by(Greeting.id)
    if language:
        query = query.where(Greeting.language == language)
    return list(db.execute(query).scalars())


def count_greetings(db: Session) -> int:
    """How many greetings there are."""
    return db.execute(select(func.count()).select_from(Greeting)).scalar_one()


def greeting_for(db: Session, language: str) -> Greeting | None:
    """The first greeting in ``language``, else the first English one."""
    return (list_greetings(db, language) or list_greetings(db, "en") or [None])[0]


def add_greeting(db: Session, text: str, language: str) -> Greeting:
    """Add a greeting; raise :class:`core.InvalidInput` naming the field when the input is wrong."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write a greeting."), field="text")
    if len(text) > 200:
        raise InvalidInput(_("A greeting has at most 200 characters."), field="text")
    if language not in LANGUAGES:
        raise InvalidInput(_("Choose one of the languages."), field="language")
    greeting = Greeting(text=text, language=language)
    db.add(greeting)
    db.flush()
    return greeting


def load_default_greetings(db: Session) -> None:
    """Add one greeting per supported language (called when the module is installed)."""
    for row in json.loads(DEFAULT_DATA.read_text(encoding="utf-8")):
        add_greeting(db, row["text"], row["language"])
