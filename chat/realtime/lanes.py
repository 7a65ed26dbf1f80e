"""Where a reply's database work runs: the first token's steps on the shared thread, the rest beside it.

Channels runs every `database_sync_to_async` call on one shared thread, one call after another. A send
waits there for its checks and rows (store.begin); a checkpoint, a final save or a title's accounting
queued ahead of it would delay its first token. So those run on a thread of their own, `background`,
with its own connection (from the pool on PostgreSQL), wherever a second connection is safe: a server
database or an SQLite file (WAL lets its readers and one writer overlap; IMMEDIATE transactions and
the busy timeout queue its writers). An in-memory SQLite database (the tests' default) is one shared
cache that refuses a second writer outright, so there everything stays on the shared thread.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.db import connections

_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenoff-db-background")


def separate() -> bool:
    """Whether background work may take a connection of its own (not with an in-memory SQLite)."""
    connection = connections["default"]
    return connection.vendor != "sqlite" or not connection.is_in_memory_db()


def background(func):
    """`database_sync_to_async` on the background thread where that is safe (see the module's note)."""
    shared = database_sync_to_async(func)
    own = database_sync_to_async(func, thread_sensitive=False, executor=_BACKGROUND)

    @functools.wraps(func)
    async def run(*args, **kwargs):
        return await (own if separate() else shared)(*args, **kwargs)

    run.func = func
    return run
