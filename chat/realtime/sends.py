"""A send's shape before anything is saved: where it branches off (Fork), the turns an API call opens a
conversation with (Opening), the message its question follows, and the request that may go upstream
while its rows are written (Early: chat/realtime/store.py begin, chat/realtime/runtime.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chat.models import ApiKey, ChatModel, Conversation, Message
from chat.models.conversations import Asking
from chat.realtime.frames import Code, Refused


@dataclass(frozen=True)
class Fork:
    """Where a send branches off: `edit` a question of the conversation, or `regenerate` a reply."""

    edit: int | None = None
    regenerate: int | None = None


@dataclass(frozen=True)
class Opening:
    """A new conversation that is not the chat's (an API call): its own fields, and the turns a script sent
    before its question, saved in order ahead of it."""

    fields: dict
    turns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Early:
    """The upstream request of a send, ready before its rows are written: what Reply.run sends."""

    key: ApiKey | None
    chat_model: ChatModel
    upstream_messages: list[dict]


# Called on the database thread with the request, before the send's writes begin: it starts the request
# on the event loop (thread-safe), and a write that fails after it cancels that request.
EarlyHook = Callable[[Early], None]


def opened(conversation: Conversation, opening: Opening | None, now) -> int | None:
    """Save the opening turns; the last one's id (the question's parent), or None without any."""
    parent_id = None
    for role, content in opening.turns if opening else ():
        turn = Message.objects.create(
            conversation=conversation, parent_id=parent_id, role=role, content=content, created=now
        )
        parent_id = turn.pk
    return parent_id


def parent_of_question(conversation: Conversation, edit: int | None) -> int | None:
    """A new question follows the branch on show; an edited one takes the place of the question edited."""
    if edit is not None:
        edited = conversation.messages.filter(pk=edit, role=Message.Role.USER).values("parent_id").first()
        if edited is None:
            raise Refused(Code.NOT_FOUND, "No such message in this conversation.")
        return edited["parent_id"]
    if conversation.leaf_id is not None:
        return conversation.leaf_id
    return conversation.messages.order_by("-id").values_list("pk", flat=True).first()


def question_of(conversation: Conversation, reply_id: int) -> Message:
    """The question a regenerated reply answers again."""
    replaced = (
        conversation.messages.filter(pk=reply_id, role=Message.Role.ASSISTANT)
        .select_related("parent")
        .first()
    )
    if replaced is None or replaced.parent is None or replaced.parent.role != Message.Role.USER:
        raise Refused(Code.NOT_FOUND, "No such reply in this conversation.")
    return replaced.parent


def history_before_saving(
    conversation: Conversation, limits: tuple, content: str, parent: int | None, new: bool
) -> list[dict]:
    """The request's messages for a question not saved yet, exactly as Conversation.upstream_messages
    gives them once it is (a test holds the two together): the branch up to `parent`, then the question."""
    asking = Asking(content, parent)
    return conversation.fitted_context(limits, fresh=new, attached=False, asking=asking).messages
