"""Administration → Mail: the SMTP settings, the company's sender, a test message and the mail log."""
from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from core.company.services import setting_values
from core.db import session as db
from core.i18n import gettext as _
from core.mail import services
from core.mail.settings import SETTINGS
from core.security import require
from core.web.shell import render
from core.web.transaction import redirect_to, transaction

bp = Blueprint("mail", __name__)
MANAGE = "core.mail.manage"


def _page(values: dict, errors: dict, status: int = 200, test_errors: dict | None = None, test_to: str = ""):
    return render("mail/settings.html", "mail/_settings_form.html", settings=SETTINGS, values=values, errors=errors,
                  test_errors=test_errors or {}, test_to=test_to, messages=services.recent_messages(db),
                  title=_("Mail")), status


@bp.route("/settings/mail", methods=["GET", "POST"])
@require(MANAGE)
def settings():
    if request.method == "GET":
        return _page(setting_values(db, SETTINGS), {}, test_to=current_user.email)
    values = {setting.key: request.form.get(setting.key, "") for setting in SETTINGS}
    with transaction(on_refusal=lambda exc: _page({**setting_values(db, SETTINGS), **values}, exc.as_errors(), 422)):
        services.save_settings(db, values)
    flash(_("The mail settings are saved."), "success")
    return redirect_to(url_for("mail.settings"))


@bp.post("/settings/mail/test")
@require(MANAGE)
def send_test():
    to = request.form.get("to", "")
    with transaction(on_refusal=lambda exc: _page(setting_values(db, SETTINGS), {}, 422,
                                                  test_errors={"to": [exc.message]}, test_to=to)):
        message = services.send_test_message(db, to)
    flash(_("A test message to %(to)s is on its way; the log below shows what the server answered.",
            to=message.to_address), "success")
    return redirect_to(url_for("mail.settings"))
