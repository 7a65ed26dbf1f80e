"""A send's attachments (docs/protocol.md, "Attachments"): the sender's own, checked against the model
before anything is saved or sent, then carried by the new question.

An id of another member's attachment, of none, or of one already sent in another conversation is
`not_found`. An image for a model without vision is `attachment_unsupported`, naming models that take
images; so is a conversation whose history holds images when the member switches to such a model (the
upstream would refuse the request). A document longer than half the model's window needs an excerpt:
without one, `too_large` says how long it is and how much fits (fields `attachment`, `tokens`, `fits`),
and the page offers the first part or pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.attachments import parts
from chat.attachments.serving import describe
from chat.models import Attachment, ChatModel, Conversation, Message, MessageAttachment
from chat.realtime.frames import AttachmentChoice, Code, Refused
from chat.upstream import tokens

MODELS_NAMED = 3  # vision models an attachment_unsupported names


@dataclass(frozen=True)
class Carried:
    """An attachment a question carries, with the part of it sent ("" all of it)."""

    attachment: Attachment
    excerpt: str = ""


def resolve(user, conversation: Conversation | None, choices: list[AttachmentChoice]) -> list[Carried]:
    """The sender's attachments in the order given; not_found for any other id."""
    if not choices:
        return []
    found = Attachment.objects.filter(owner=user, pk__in=[choice.id for choice in choices])
    # A file pinned to an assistant or a project is not sent in a message (its chat's deletion would take it).
    found = found.filter(pinned_to_assistants__isnull=True, pinned_to_projects__isnull=True).in_bulk()
    carried = []
    for choice in choices:
        attachment = found.get(choice.id)
        bound_elsewhere = attachment is not None and attachment.conversation_id not in (
            None,
            conversation.pk if conversation else None,
        )
        if attachment is None or bound_elsewhere:
            raise Refused(Code.NOT_FOUND, "No such attachment.")
        carried.append(Carried(attachment, choice.excerpt))
    return carried


def kept_from(question_id: int | None) -> list[Carried]:
    """What an edited question carried: its new version carries the same, with the same excerpts."""
    if question_id is None:
        return []
    links = MessageAttachment.objects.filter(message_id=question_id).select_related("attachment")
    return [Carried(link.attachment, link.excerpt) for link in links]


def unsupported(user, chat_model: ChatModel, in_history: bool = False) -> Refused:
    """attachment_unsupported, naming a few models the member may use that take images."""
    names = list(
        ChatModel.objects.usable_by(user).filter(vision=True).values_list("name", flat=True)[:MODELS_NAMED]
    )
    said = f"{chat_model.name} does not take images."
    if in_history:
        said = f"This conversation holds images, and {said}"
    if names:
        return Refused(Code.ATTACHMENT_UNSUPPORTED, f"{said} Choose a model that does: {', '.join(names)}.")
    return Refused(Code.ATTACHMENT_UNSUPPORTED, f"{said} None of the models you may use takes images.")


def check(user, chat_model: ChatModel, carried: list[Carried]) -> None:
    """Refuse before anything is saved: images for a model without vision, documents too long."""
    if not chat_model.vision and any(parts.is_image(item.attachment) for item in carried):
        raise unsupported(user, chat_model)
    for item in carried:
        if parts.is_image(item.attachment) and item.excerpt:
            raise Refused(
                Code.BAD_REQUEST, f"{item.attachment.name} is an image: an excerpt is for a document."
            )
    room = parts.document_room(chat_model.context_window)
    used = 0  # the half of the window is the message's: its documents share it
    for item in carried:
        if not parts.is_image(item.attachment) and item.excerpt != parts.FIRST:
            used += _check_length(item, room, used)


def _check_length(item: Carried, room: int | None, used: int) -> int:
    """The document's size as sent; it fits in what the message's documents before it left of half the
    window, or too_large says how much does; its pages exist."""
    attachment = item.attachment
    size, what = attachment.tokens, attachment.name
    if item.excerpt:
        try:
            chosen = parts.chosen_text(parts.read_text(attachment), item.excerpt, room)
        except parts.NoPages:
            if attachment.pages:
                words = f"{attachment.name} has {attachment.pages} pages: name others."
            else:
                words = f"{attachment.name} has no pages: send all of it, or its first part."
            raise Refused(Code.BAD_REQUEST, words) from None
        size, what = tokens.text_tokens(chosen), f"{attachment.name} ({item.excerpt})"
    if room is None or used + size <= room:
        return size
    fits = room - used
    words = (
        f"{what} is about {size:,} tokens; this model takes about {room:,} of a document at once. "
        "Send the first part, or name pages."
    )
    if used:
        words = (
            f"{what} is about {size:,} tokens; this model takes about {room:,} of the documents of a "
            f"message at once, and the others take {used:,}. Send the first part, or name pages."
        )
    raise Refused(Code.TOO_LARGE, words, attachment=attachment.pk, tokens=size, fits=fits)


def refuse_images_in(user, chat_model: ChatModel, history: list[dict]) -> None:
    """Images earlier in the conversation, for a model without vision: refused, not sent to a 400."""
    if chat_model.vision:
        return
    for message in history:
        content = message["content"]
        if isinstance(content, list) and any(part.get("type") == "image_url" for part in content):
            raise unsupported(user, chat_model, in_history=True)


def bind(question: Message, conversation: Conversation, carried: list[Carried]) -> None:
    """The question carries them, in order; each belongs to the conversation from now on."""
    if not carried:
        return
    ids = [item.attachment.pk for item in carried]
    # Locked against the orphan sweep (chat/attachments/cleanup.py), which may have taken a day-old
    # upload since it was resolved: gone is not_found, not an integrity error at commit.
    locked = Attachment.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True)
    if len(list(locked)) != len(ids):  # listed, not counted: PostgreSQL takes no FOR UPDATE with COUNT
        raise Refused(Code.NOT_FOUND, "No such attachment.")
    MessageAttachment.objects.bulk_create(
        MessageAttachment(message=question, attachment=item.attachment, position=index, excerpt=item.excerpt)
        for index, item in enumerate(carried)
    )
    Attachment.objects.filter(pk__in=ids, conversation__isnull=True).update(conversation=conversation)
    # A send into another conversation may have bound one meanwhile: refused, the transaction undone.
    if Attachment.objects.filter(pk__in=ids).exclude(conversation=conversation).exists():
        raise Refused(Code.NOT_FOUND, "No such attachment.")


def described(carried: list[Carried]) -> list[dict]:
    """The attachments as `started` says them: as the page's state does (chat/conversations/branches.py)."""
    return [{**describe(item.attachment), "excerpt": item.excerpt} for item in carried]
