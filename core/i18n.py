"""Languages and locale formatting: the user's language for text, dates, numbers and money."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.numbers import get_currency_symbol
from flask import g, has_request_context, request, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale
from flask_babel import format_currency as _format_currency
from flask_babel import lazy_gettext, gettext, ngettext
from flask_login import current_user

from core.config import LANGUAGES

__all__ = ["gettext", "lazy_gettext", "ngettext", "init_i18n", "money", "LANGUAGES", "language_name"]


def select_locale() -> str:
    """The signed-in user's language, else the one picked this session, else the browser's."""
    if not has_request_context():
        return g.get("company_locale") or "en"
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    picked = session.get("locale")
    if picked in LANGUAGES:
        return picked
    return request.accept_languages.best_match(LANGUAGES) or g.get("company_locale") or "en"


def language_name(code: str) -> str:
    """A language's own name for itself ("Deutsch", "suomi")."""
    return Locale.parse(code).get_display_name(code).capitalize()


def language_options() -> list[tuple[str, str]]:
    """(code, own name) of every language Kontor speaks, for a select box."""
    return [(code, language_name(code)) for code in LANGUAGES]


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs without translating it now.

    For text stored and translated when shown (a timeline entry is read by users of other
    languages): store the message and its arguments, and call ``gettext(message, **args)`` later.
    """
    return message


def money(amount: Decimal | int | str | None, currency: str | None = None) -> str:
    """Format an exact amount in ``currency`` (default: the company's) for the user's locale."""
    if amount is None:
        return ""
    if currency is None:
        currency = g.get("company_currency") or "EUR"
    return _format_currency(Decimal(amount), currency)


def number(value, digits: int | None = None) -> str:
    """Format a number for the user's locale."""
    if value is None:
        return ""
    if digits is not None:
        return format_decimal(value, format="#,##0." + "0" * digits) if digits else format_decimal(value, "#,##0")
    return format_decimal(value)


def date_(value: date | datetime | None, fmt: str = "medium") -> str:
    """Format a date, or the day of a datetime in the user's time zone, for the user's locale."""
    if value is None:
        return ""
    return format_date(value, fmt)


def datetime_(value: datetime | None, fmt: str = "medium") -> str:
    """Format a moment in the user's time zone and locale."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def init_i18n(app, kontor) -> None:
    """Set up Flask-Babel with the core's and every active module's translations."""
    folders = [str(app.root_path) + "/translations"]
    for plugin in kontor.active:
        candidate = plugin.package_path / "translations"
        if candidate.is_dir():
            folders.append(str(candidate))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(folders)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(money=money, number=number, date=date_, datetime=datetime_)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, language_name=language_name, language_options=language_options, get_locale=get_locale, currency_symbol=get_currency_symbol
    )
