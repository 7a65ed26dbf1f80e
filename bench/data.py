"""The benchmark's database: a user with 10,000 conversations of 20 messages, the team key, and the
members whose conversations the streams continue (one member a stream, each signed in: a team's
load, within the per-member caps on sockets and sends). Built in the benchmark's process with bulk_create."""

from __future__ import annotations

import datetime
import os
import random
from dataclasses import dataclass
from pathlib import Path

import django

HISTORY_CONVERSATIONS = 10_000
MESSAGES_EACH = 20
USERNAME = "bench"
TEAM_KEY = "sk-bench-team-key-0000"
UNUSABLE = "!"  # Django's mark of an unusable password: members are signed in by force_login


@dataclass
class BenchData:
    session_cookie: str  # the member with the 10,000 conversations (pages)
    stream_conversations: list[int]  # replies are written into these, one per stream
    stream_cookies: list[str]  # the session of each stream conversation's owner, in the same order
    page_conversation: int  # one of the 10,000, with its 20 messages


def setup(env: dict[str, str]) -> None:
    """Set up Django in this process on the benchmark's settings and database."""
    os.environ.update(env)
    django.setup()


def _reset() -> None:
    from django.contrib.auth.models import User

    from chat.models import ApiKey, Conversation

    Conversation.objects.all().delete()
    ApiKey.objects.all().delete()
    User.objects.all().delete()


def _filler(rng: random.Random, words: int) -> str:
    vocabulary = "the relay sends each token to every socket without delay while the database rests".split()
    return " ".join(rng.choice(vocabulary) for _ in range(words))


def build(stream_conversations: int, history: int = HISTORY_CONVERSATIONS) -> BenchData:
    """Migrate, then fill the database; a PostgreSQL database is emptied first."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections, transaction

    from chat.conversations import branches
    from chat.models import ApiKey, ChatModel, Conversation, Message

    call_command("migrate", verbosity=0)
    _reset()
    user = User.objects.create_user(USERNAME, password="bench-password-not-secret")  # noqa: S106
    ApiKey.store(TEAM_KEY)
    model = ChatModel.default().name
    rng = random.Random(8)
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    with transaction.atomic():
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(
                    owner=user,
                    title=_filler(rng, 5),
                    model=model,
                    created=start + datetime.timedelta(minutes=i),
                    updated=start + datetime.timedelta(minutes=i, seconds=30),
                )
                for i in range(history)
            ],
            batch_size=2000,
        )
        user_text, reply_text = _filler(rng, 15), _filler(rng, 110)
        batch: list[Message] = []
        for conversation in conversations:
            for j in range(MESSAGES_EACH):
                role = Message.Role.USER if j % 2 == 0 else Message.Role.ASSISTANT
                batch.append(
                    Message(
                        conversation=conversation,
                        role=role,
                        content=user_text if role == Message.Role.USER else reply_text,
                        model=model,
                        finish_reason="" if role == Message.Role.USER else "stop",
                        created=conversation.created,
                    )
                )
            if len(batch) >= 10_000:
                Message.objects.bulk_create(batch, batch_size=2000)
                batch.clear()
        Message.objects.bulk_create(batch, batch_size=2000)
        branches.link_in_order(Message.objects.filter(conversation__owner=user))
    streams = _stream_members(stream_conversations, model, user_text, reply_text)
    data = BenchData(
        session_cookie=_signed_in(user),
        stream_conversations=[conversation for conversation, _cookie in streams],
        stream_cookies=[cookie for _conversation, cookie in streams],
        page_conversation=conversations[len(conversations) // 2].pk if conversations else 0,
    )
    connections.close_all()
    return data


def _signed_in(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _stream_members(count: int, model: str, user_text: str, reply_text: str) -> list[tuple[int, str]]:
    """One member a stream, each with one conversation of 20 messages to continue and a session."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from chat.conversations import branches
    from chat.models import Conversation, Message

    start = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
    with transaction.atomic():
        members = User.objects.bulk_create(
            [User(username=f"{USERNAME}-{i:04}", password=UNUSABLE) for i in range(count)], batch_size=1000
        )
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(owner=member, title="stream", model=model, created=start, updated=start)
                for member in members
            ],
            batch_size=1000,
        )
        Message.objects.bulk_create(
            [
                Message(
                    conversation=conversation,
                    role=Message.Role.USER if j % 2 == 0 else Message.Role.ASSISTANT,
                    content=user_text if j % 2 == 0 else reply_text,
                    model=model,
                    finish_reason="" if j % 2 == 0 else "stop",
                    created=start,
                )
                for conversation in conversations
                for j in range(MESSAGES_EACH)
            ],
            batch_size=2000,
        )
        branches.link_in_order(Message.objects.filter(conversation__in=conversations))
    return [(c.pk, _signed_in(m)) for c, m in zip(conversations, members, strict=True)]


def load(saved: Path) -> BenchData | None:
    """The last run's data, if it was saved in this shape."""
    if not saved.exists():
        return None
    import orjson

    try:
        return BenchData(**orjson.loads(saved.read_bytes()))
    except TypeError:
        return None


def sqlite_url(folder: Path, fresh: bool) -> str:
    path = folder / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if fresh:
            Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"
