"""The notifications API under ``/api/v1/notifications``: a user's own inbox, its unread count,
marking read and the per-kind settings. Another user's notification is not found (404)."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from core.api.base import ApiBlueprint, documented, json_response, load_body, load_query, paged
from core.db import session as db
from core.notifications import services
from core.notifications.registry import notification_kinds
from core.notifications.schemas import ChoiceSchema, ChoicesSchema, CountSchema, InboxQuerySchema, NotificationSchema
from core.security import signed_in
from core.web.transaction import transaction


def _user():
    return current_user._get_current_object()


def _choices(chosen: dict[str, str]) -> list[dict]:
    kinds = notification_kinds()
    return [{"kind": name, "title": str(kinds[name].title), "channel": channel} for name, channel in chosen.items()]


def create_blueprint() -> Blueprint:
    """``api_notifications``: the signed-in user's notifications and settings."""
    bp = ApiBlueprint("notifications", __name__)

    @bp.get("")
    @signed_in
    @documented("The user's notifications, newest first, in their language (filter: unread; paging: before, limit)",
                query=InboxQuerySchema, response=NotificationSchema, many=True)
    def list_notifications():
        args = load_query(InboxQuerySchema())
        user = _user()
        rows = services.inbox(db, user, unread=args["unread"], before=args["before"], limit=args["limit"] + 1)
        more, rows = len(rows) > args["limit"], rows[:args["limit"]]
        return paged([services.shown(db, user, n) for n in rows], next_cursor=str(rows[-1].id) if more else None,
                     schema=NotificationSchema())

    @bp.get("/count")
    @signed_in
    @documented("How many notifications the user has not read", response=CountSchema)
    def count():
        return json_response(CountSchema().dump({"unread": services.unread_count(db, _user())}))

    @bp.post("/<int:notification_id>/read")
    @signed_in
    @documented("Mark one of the user's notifications read", response=NotificationSchema)
    def mark_read(notification_id: int):
        user = _user()
        with transaction():
            note = services.mark_read(db, user, notification_id)
        return json_response(NotificationSchema().dump(services.shown(db, user, note)))

    @bp.post("/read-all")
    @signed_in
    @documented("Mark every notification of the user read", response=CountSchema)
    def mark_all_read():
        with transaction():
            services.mark_all_read(db, _user())
        return json_response(CountSchema().dump({"unread": 0}))

    @bp.get("/settings")
    @signed_in
    @documented("How each kind of notification reaches the user (in the app, e-mail at once, daily digest)",
                response=ChoiceSchema, many=True)
    def get_settings():
        return json_response({"items": ChoiceSchema(many=True).dump(_choices(services.choices(db, _user())))})

    @bp.put("/settings")
    @signed_in
    @documented("Choose per kind how notifications reach the user; kinds left out keep their channel",
                body=ChoicesSchema, response=ChoiceSchema, many=True)
    def put_settings():
        body = load_body(ChoicesSchema())
        with transaction():
            chosen = services.save_choices(db, _user(), body["choices"])
        return json_response({"items": ChoiceSchema(many=True).dump(_choices(chosen))})

    return bp
