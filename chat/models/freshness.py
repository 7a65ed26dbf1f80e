"""What a send reads before its first token (models, groups, keys, budgets, preferences), cached per
process for as long as one stamp in the database says that nothing it depends on has changed.

A send reads the stamp (one query: the row below) and takes the facts cached under it; every change they
depend on writes a new stamp in its own transaction (the signals wired by `watch`, and the querysets'
update paths), so the next send of any process sees the change. Spend is never cached: it changes with
every reply.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.db import connections, models
from django.utils.translation import gettext_lazy as _

T = TypeVar("T")

# A safety net for a change made behind the signals' back (raw SQL, another program): facts older than
# this are read again even when the stamp has not moved.
TTL_SECONDS = 10.0
# Entries, across every user (a few per user): the least recently used go first.
MAX_ENTRIES = 4096
ROW = 1


class CacheVersion(models.Model):
    """One row whose stamp changes with every change to what a send's cached facts depend on."""

    # A random stamp rather than a count: a change rolled back also rolls its stamp back, and a count
    # would then hand the same number to the next change, while a cache may hold facts read under it
    # inside the rolled-back transaction.
    stamp = models.BigIntegerField(_("stamp"), default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("cache version")

    def __str__(self) -> str:
        return f"Cache version {self.stamp}"


_lock = threading.Lock()
_entries: OrderedDict[tuple, tuple[int, float, object]] = OrderedDict()
_local = threading.local()  # a snapshot's stamp, per thread


def _read(using: str) -> int | None:
    connection = connections[using]
    table = connection.ops.quote_name(CacheVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stamp FROM {table} WHERE id = %s", [ROW])  # noqa: S608 (a table name)
        row = cursor.fetchone()
    return row[0] if row else None


def current(using: str = "default") -> int | None:
    """The stamp: read once per snapshot, else at every call; None when the row is missing."""
    if getattr(_local, "depth", 0) and hasattr(_local, "stamp"):
        return _local.stamp
    stamp = _read(using)
    if getattr(_local, "depth", 0):
        _local.stamp = stamp
    return stamp


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """Within it, this thread reads the stamp once (a send's reads: one query, not one per fact)."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth
        if not depth:
            _local.__dict__.pop("stamp", None)


def cached(key: tuple, load: Callable[[], T]) -> T:
    """The value cached under `key` for the current stamp, else `load()`'s (kept). Never mutate it."""
    stamp = current()
    if stamp is None:  # a database without the row (a flushed test database): nothing is cached
        return load()
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
        if hit is not None and hit[0] == stamp and hit[1] > now:
            _entries.move_to_end(key)
            return hit[2]  # type: ignore[return-value]
    value = load()  # outside the lock: a slow query holds up no other thread
    with _lock:
        _entries[key] = (stamp, now + TTL_SECONDS, value)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def bump(using: str = "default") -> None:
    """A new stamp, written in the caller's transaction: every process reads the facts again."""
    stamp = secrets.randbits(62)
    if not CacheVersion.objects.using(using).filter(pk=ROW).update(stamp=stamp):
        CacheVersion.objects.using(using).get_or_create(pk=ROW, defaults={"stamp": stamp})
    _local.__dict__.pop("stamp", None)  # this thread's snapshot sees its own change


def clear() -> None:
    """Forget every cached fact (tests; the stamp makes it unnecessary elsewhere)."""
    with _lock:
        _entries.clear()


# Signals -----------------------------------------------------------------------------------------


def _saved(sender, using="default", update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_used"}:
        return  # written by sends themselves, read by no send
    bump(using)


def _deleted(sender, using="default", **kwargs) -> None:
    bump(using)


def _user_saved(sender, created=False, using="default", **kwargs) -> None:
    # A new user may take the id of one whose facts are cached (SQLite reuses ids after a rollback).
    if created:
        bump(using)


def _m2m_changed(sender, action="", using="default", **kwargs) -> None:
    if action.startswith("post_"):
        bump(using)


def watch() -> None:
    """Wire the signals of everything the cached facts depend on (from the app's ready())."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from chat.models import ApiKey, Budget, ChatModel, ModelLimit, Preferences, SiteSettings

    user = get_user_model()
    for model in (ChatModel, ModelLimit, ApiKey, Budget, Preferences, SiteSettings):
        uid = f"chat.freshness.{model.__name__}"
        post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}.saved")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}.deleted")
    # A deleted group leaves its members and its models' lists without a signal of their own.
    post_delete.connect(_deleted, sender=Group, dispatch_uid="chat.freshness.Group.deleted")
    post_save.connect(_user_saved, sender=user, dispatch_uid="chat.freshness.user.saved")
    post_delete.connect(_deleted, sender=user, dispatch_uid="chat.freshness.user.deleted")
    for through in (user.groups.through, ChatModel.groups.through, ModelLimit.allowed_models.through):
        uid = f"chat.freshness.{through._meta.label}"
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=uid)
