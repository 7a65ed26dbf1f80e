"""Cutting off at once a user who may no longer chat, and the sessions a password change voids."""

from __future__ import annotations

import logging
from functools import partial

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.db.models.signals import pre_save

log = logging.getLogger(__name__)


def _end_user(user_id: int) -> None:
    # Imported here: apps.py loads this module at start-up, and sessions brings in the runtime and the SDK.
    from chat.realtime import sessions

    try:
        async_to_sync(sessions.end_user)(user_id)
    except Exception:  # the account change stands; the next frame of any socket left is refused anyway
        log.exception("could not end the sessions of user %s", user_id)


def _recheck_sessions(user_id: int) -> None:
    from chat.realtime import sessions  # lazily, as above

    try:
        async_to_sync(sessions.recheck_user_sessions)(user_id)
    except Exception:  # the password change stands; each socket's next frame checks its session anyway
        log.exception("could not recheck the sessions of user %s", user_id)


def user_saving(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    """Note a change of password hash: it voids the user's sessions, and so their sockets."""
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._chat_password_changed = stored is not None and stored != instance.password


def user_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        # After the commit, so that a socket re-checking the user already sees the change.
        transaction.on_commit(partial(_end_user, instance.pk))
    elif getattr(instance, "_chat_password_changed", False):
        instance._chat_password_changed = False
        transaction.on_commit(partial(_recheck_sessions, instance.pk))


def user_logged_out(sender, request, user, **kwargs) -> None:
    """Logging out closes the sockets this browser session opened (other devices stay signed in)."""
    session_key = request.session.session_key if request is not None else None
    if session_key:
        from chat.realtime import sessions  # see _end_user

        try:
            async_to_sync(sessions.close_session_sockets)(session_key)
        except Exception:  # the log-out stands; the socket's next frame finds no session anyway
            log.exception("could not close the sockets of a logged-out session")


def user_deleted(sender, instance, **kwargs) -> None:
    transaction.on_commit(partial(_end_user, instance.pk))


# The others are connected in ChatConfig.ready(), which imports this module: this one is on import.
pre_save.connect(user_saving, sender=settings.AUTH_USER_MODEL, dispatch_uid="chat.user_saving")
