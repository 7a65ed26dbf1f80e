"""A user who may no longer chat is cut off at once: their sockets close and their replies stop."""

from __future__ import annotations

import logging
from functools import partial

from asgiref.sync import async_to_sync
from django.db import transaction

log = logging.getLogger(__name__)


def _end_user(user_id: int) -> None:
    # Imported here: apps.py loads this module at start-up, and replies brings in the OpenAI SDK.
    from chat.realtime import replies

    try:
        async_to_sync(replies.end_user)(user_id)
    except Exception:  # the account change stands; the next frame of any socket left is refused anyway
        log.exception("could not end the sessions of user %s", user_id)


def user_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        # After the commit, so that a socket re-checking the user already sees the change.
        transaction.on_commit(partial(_end_user, instance.pk))


def user_logged_out(sender, request, user, **kwargs) -> None:
    """Logging out closes the sockets this browser session opened (other devices stay signed in)."""
    session_key = request.session.session_key if request is not None else None
    if session_key:
        from chat.realtime import replies  # see _end_user

        try:
            async_to_sync(replies.close_session_sockets)(session_key)
        except Exception:  # the log-out stands; the socket's next frame finds no session anyway
            log.exception("could not close the sockets of a logged-out session")


def user_deleted(sender, instance, **kwargs) -> None:
    transaction.on_commit(partial(_end_user, instance.pk))
