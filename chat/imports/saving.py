"""Parsed conversations saved for their new owner, once: the (owner, imported_from) constraint makes a
re-run, or two runs at once, add nothing twice. Saved a batch at a time: a few queries per batch, not per
conversation, so that 50,000 conversations take minutes rather than hours."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.imports.parsed import Parsed
from chat.models import Conversation, Message


def save(owner, batch: list[Parsed], fallback_model: str) -> list[Conversation | None]:
    """Each conversation saved with its messages and branches, or None where this owner already has it."""
    try:
        return _save(owner, batch, fallback_model)
    except IntegrityError:
        # Another run saved one of them meanwhile: one at a time, so that only that one is left out.
        return [_save_one(owner, parsed, fallback_model) for parsed in batch]


def _save_one(owner, parsed: Parsed, fallback_model: str) -> Conversation | None:
    try:
        return _save(owner, [parsed], fallback_model)[0]
    except IntegrityError:
        return None


def _save(owner, batch: list[Parsed], fallback_model: str) -> list[Conversation | None]:
    sources = [parsed.source for parsed in batch]
    have = set(
        Conversation.objects.filter(owner=owner, imported_from__in=sources).values_list(
            "imported_from", flat=True
        )
    )
    fresh: dict[str, Parsed] = {}
    for parsed in batch:
        if parsed.source not in have:
            fresh.setdefault(parsed.source, parsed)  # the same id twice in one file comes in once
    with transaction.atomic():
        talks = Conversation.objects.bulk_create(
            [_conversation(owner, p, fallback_model) for p in fresh.values()]
        )
        # Parents first, so that ids grow from a message to its replies as in a live chat (the summaries
        # rely on it); the parents and leaves are set once every row has its id.
        pairs = [
            (item, talk) for talk, parsed in zip(talks, fresh.values(), strict=True) for item in parsed.items
        ]
        rows = Message.objects.bulk_create([_message(item, talk) for item, talk in pairs], batch_size=500)
        ids: dict[tuple[int, str], int] = {}
        for (item, talk), row in zip(pairs, rows, strict=True):
            ids[talk.pk, item.key] = row.pk
        children = []
        for (item, talk), row in zip(pairs, rows, strict=True):
            if item.parent is not None:
                row.parent_id = ids[talk.pk, item.parent]
                children.append(row)
        Message.objects.bulk_update(children, ["parent"], batch_size=500)
        for talk, parsed in zip(talks, fresh.values(), strict=True):
            talk.leaf_id = ids.get((talk.pk, parsed.leaf))
        Conversation.objects.bulk_update(talks, ["leaf"], batch_size=500)
    by_source = {talk.imported_from: talk for talk in talks}
    return [by_source.pop(parsed.source, None) for parsed in batch]


def _conversation(owner, parsed: Parsed, fallback_model: str) -> Conversation:
    created = parsed.created or timezone.now()
    first_user = next((item.content for item in parsed.items if item.role == Message.Role.USER), "")
    return Conversation(
        owner=owner,
        title=parsed.title or Conversation.title_from(first_user),
        model=parsed.model or fallback_model,
        created=created,
        updated=parsed.updated or created,
        parameters=parsed.parameters,
        imported_from=parsed.source,
    )


def _message(item, talk: Conversation) -> Message:
    return Message(
        conversation=talk,
        role=item.role,
        content=item.content,
        model=item.model,
        served_model=item.served_model,
        finish_reason=item.finish_reason,
        usage=item.usage,
        created=item.created or talk.created,
    )
