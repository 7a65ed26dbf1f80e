"""Conversations as review finds them: built directly, with the times, models and outcomes a test needs."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from chat.models import Conversation, Message
from chat.models.feedback import Feedback


def conversation(
    owner,
    title: str = "A question",
    *,
    question: str = "What is 2+2?",
    answer: str = "It is **4**.",
    model: str = "gpt-4.1",
    served: str = "gpt-4.1-2025-04-14",
    finish: str = "stop",
    when: dt.datetime | None = None,
    rating: int | None = None,
    comment: str = "",
) -> Conversation:
    """One exchange: a question and its reply at `when` (now by default), rated when asked to."""
    when = when or timezone.now()
    conv = Conversation.objects.create(owner=owner, title=title, model=model, created=when, updated=when)
    asked = Message.objects.create(
        conversation=conv, role="user", content=question, model=model, created=when
    )
    reply = Message.objects.create(
        conversation=conv,
        parent=asked,
        role="assistant",
        content=answer,
        model=model,
        served_model=served,
        finish_reason=finish,
        usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        created=when,
    )
    if rating is not None:
        Feedback.objects.create(message=reply, user=owner, rating=rating, comment=comment, created=when)
    return conv


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def yesterday_noon() -> dt.datetime:
    today = timezone.localdate()
    return dt.datetime.combine(today - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
