"""Checkpoints: the text of a process's streaming replies saved every few seconds, all in one statement.

What a reload or another process sees of a reply in flight, and its heartbeat: a reply whose
process died is found by a heartbeat left to age (store.interrupt_orphans).
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from chat.models import Message
from chat.realtime import lanes


@lanes.background
def save(saves: list[tuple[int, str, int]], alive: list[int]) -> None:
    """One statement for every reply of this process due a save: the text and seq of those that grew
    (`saves`: id, content, seq), the heartbeat of all of them (`alive`), the ended left alone.

    Written out rather than through the ORM's Case/When, which spends a resolve per reply and field
    (a tenth of the server's samples at 100 replies); batches of CHECKPOINT_BATCH keep it under the
    databases' limits on parameters."""
    saved = {message_id: (content, seq) for message_id, content, seq in saves}
    ids = sorted(set(alive) | set(saved))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    for start in range(0, len(ids), CHECKPOINT_BATCH):
        _save_batch(ids[start : start + CHECKPOINT_BATCH], saved, now)


CHECKPOINT_BATCH = 500


def _save_batch(ids: list[int], saved: dict[int, tuple[str, int]], now) -> None:
    quote = connection.ops.quote_name
    table, pk = quote(Message._meta.db_table), quote("id")
    grown = [message_id for message_id in ids if message_id in saved]
    columns, params = [f"{quote('heartbeat')} = %s"], [now]
    if grown:
        whens = " ".join(f"WHEN {pk} = %s THEN %s" for _ in grown)
        columns.append(f"{quote('content')} = CASE {whens} ELSE {quote('content')} END")
        params += [value for message_id in grown for value in (message_id, saved[message_id][0])]
        columns.append(f"{quote('last_seq')} = CASE {whens} ELSE {quote('last_seq')} END")
        params += [value for message_id in grown for value in (message_id, saved[message_id][1])]
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET {', '.join(columns)} "  # noqa: S608 (names quoted by the backend, values bound)
        f"WHERE {pk} IN ({marks}) AND {quote('status')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids, Message.Status.STREAMING])
