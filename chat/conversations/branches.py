"""A conversation's branches.

Messages form a tree by `parent`: an edited question is a sibling of the one it replaces, a
regenerated reply a sibling of the reply it replaces. `Conversation.leaf` is the last message of the
branch on show; what is sent upstream, shown and continued is the path from the root to that leaf.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import OuterRef, QuerySet, Subquery

from chat.attachments.serving import describe
from chat.models import Conversation, Message, MessageAttachment
from chat.models.conversations import branch
from chat.models.feedback import Feedback


def versions(messages) -> dict[int, list[int]]:
    """Each message's versions (itself and its siblings, oldest first), for messages that have several."""
    by_parent: dict[int | None, list[int]] = defaultdict(list)
    for message in sorted(messages, key=lambda m: m.pk):
        by_parent[message.parent_id].append(message.pk)
    return {pk: ids for ids in by_parent.values() if len(ids) > 1 for pk in ids}


def newest_leaf(message: Message, messages) -> Message:
    """Where a branch ends when it is picked: follow the newest child down."""
    newest_child: dict[int, Message] = {}
    for row in messages:
        if row.parent_id is not None and (
            row.parent_id not in newest_child or row.pk > newest_child[row.parent_id].pk
        ):
            newest_child[row.parent_id] = row
    while message.pk in newest_child:
        message = newest_child[message.pk]
    return message


def show(conversation: Conversation, message_id: int) -> bool:
    """Put the branch through this message on show; False when it is not one of the conversation's."""
    messages = list(conversation.messages.order_by("id"))
    picked = next((m for m in messages if m.pk == message_id), None)
    if picked is None:
        return False
    conversation.leaf = newest_leaf(picked, messages)
    Conversation.objects.filter(pk=conversation.pk).update(leaf=conversation.leaf)
    return True


def attachment_state(link: MessageAttachment) -> dict:
    """One attachment of a message as the page shows it: the upload's answer, and the part chosen."""
    return {**describe(link.attachment), "excerpt": link.excerpt}


def attachments_of(messages: list[Message]) -> dict[int, list[dict]]:
    """The questions' attachments in order, in one query however many messages carry them."""
    asked = [m.pk for m in messages if m.role == Message.Role.USER]
    if not asked:
        return {}
    found: dict[int, list[dict]] = defaultdict(list)
    links = MessageAttachment.objects.filter(message_id__in=asked).select_related("attachment")
    for link in links.order_by("message_id", "position"):
        found[link.message_id].append(attachment_state(link))
    return found


def as_state(conversation: Conversation, user) -> list[dict]:
    """The branch on show as the page's script reads it: each message with its versions, the user's
    feedback on it, its attachments and, for a reply, the parameters it was sent with."""
    messages = list(conversation.messages.order_by("id"))
    siblings = versions(messages)
    shown = branch(conversation, messages)
    attached = attachments_of(shown)
    given = {
        message_id: {"rating": rating, "comment": comment}
        for message_id, rating, comment in Feedback.objects.filter(
            message__conversation=conversation, user=user
        ).values_list("message_id", "rating", "comment")
    }
    return [
        {
            "id": m.pk,
            "role": m.role,
            "content": m.content,
            "model": m.model,
            "served_model": m.served_model,
            "finish_reason": m.finish_reason,
            "usage": m.usage,
            "parameters": m.parameters,
            "status": m.status,
            "created": m.created.isoformat(),
            "versions": siblings.get(m.pk, []),
            "feedback": given.get(m.pk),
            "attachments": attached.get(m.pk, []),
        }
        for m in shown
    ]


def link_in_order(messages: QuerySet) -> None:
    """Rows written without parents (bulk loads) become one line each: a message follows the one before it."""
    previous = Message.objects.filter(conversation=OuterRef("conversation"), id__lt=OuterRef("id"))
    messages.filter(parent__isnull=True).update(parent_id=Subquery(previous.order_by("-id").values("id")[:1]))
