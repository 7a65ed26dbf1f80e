"""Review exports: the chosen conversations, whoever owns them, as one JSON document or a zip of Markdown."""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify

from chat.conversations import exports
from chat.models import Conversation, Message
from chat.models.feedback import Feedback
from chat.models.flags import Flag


def load(ids: list[int]) -> list[tuple[Conversation, list[Message]]]:
    """The conversations (oldest activity last) with their messages and feedback, in three queries."""
    conversations = list(
        Conversation.objects.filter(pk__in=ids)
        .select_related("owner")
        .prefetch_related(Prefetch("flags", queryset=Flag.objects.select_related("created_by")))
    )
    messages: dict[int, list[Message]] = defaultdict(list)
    rows = (
        Message.objects.filter(conversation_id__in=[c.pk for c in conversations])
        .order_by("conversation_id", "id")
        .prefetch_related(Prefetch("feedback", queryset=Feedback.objects.order_by("id")))
    )
    for message in rows:
        messages[message.conversation_id].append(message)
    return [(conversation, messages[conversation.pk]) for conversation in conversations]


def _conversation_json(conversation: Conversation, messages: list[Message]) -> dict:
    data = exports.as_json(conversation, messages)
    data["owner"] = conversation.owner.get_username()
    data["updated"] = conversation.updated.isoformat()
    data["model"] = conversation.model
    for item, message in zip(data["messages"], messages, strict=True):
        item["feedback"] = [
            {"rating": f.rating, "comment": f.comment, "created": f.created.isoformat()}
            for f in message.feedback.all()
        ]
    data["flags"] = [
        {
            "note": flag.note,
            "by": flag.created_by.get_username() if flag.created_by else None,
            "created": flag.created.isoformat(),
            "resolved": flag.resolved_at.isoformat() if flag.resolved_at else None,
        }
        for flag in conversation.flags.all()
    ]
    return data


def as_json(loaded: list[tuple[Conversation, list[Message]]], exported_by: str) -> bytes:
    document = {
        "exported": timezone.now().isoformat(),
        "exported_by": exported_by,
        "conversations": [_conversation_json(c, m) for c, m in loaded],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def markdown_name(conversation: Conversation) -> str:
    slug = slugify(conversation.title)[:60] or "conversation"
    folder = slugify(conversation.owner.get_username()) or "user"
    return f"{folder}/{conversation.pk}-{slug}.md"


def as_markdown_zip(loaded: list[tuple[Conversation, list[Message]]]) -> bytes:
    """One Markdown file per conversation, in a folder per owner."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for conversation, messages in loaded:
            text = exports.as_markdown(conversation, messages, owner=conversation.owner.get_username())
            archive.writestr(markdown_name(conversation), text)
    return buffer.getvalue()
