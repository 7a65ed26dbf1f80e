"""A conversation as JSON or Markdown, oldest message first."""

from __future__ import annotations

from django.db.models import Prefetch, prefetch_related_objects

from chat.models import Conversation, Message, MessageAttachment

ROLE_HEADINGS = {"user": "You", "assistant": "Assistant", "system": "System"}


def with_attachments(messages: list[Message]) -> list[Message]:
    """The messages with their attachments fetched in one query (as_export reads them)."""
    links = MessageAttachment.objects.select_related("attachment").order_by("position")
    prefetch_related_objects(messages, Prefetch("attachment_links", queryset=links))
    return messages


def attachment_lines(message: Message) -> list[str]:
    """A message's attachments as Markdown links to where their owner (or a reviewer) opens them."""
    lines = []
    for link in message.attachment_links.all():
        attachment = link.attachment
        url = f"/api/attachments/{attachment.pk}/"
        lines.append(
            f"- [{_link_text(attachment.name)}]({url}) ({attachment.kind}, {attachment.size:,} bytes)"
        )
    return lines


def _link_text(name: str) -> str:
    """A file name as a Markdown link's text: its brackets escaped, on one line."""
    return " ".join(name.split()).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def as_json(conversation: Conversation, messages: list[Message]) -> dict:
    messages = with_attachments(list(messages))
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "created": conversation.created.isoformat(),
        "parameters": conversation.parameters,
        # Each reply with what it was sent with (its usage holds the upstream's cached and reasoning counts).
        "messages": [{**message.as_export(), "parameters": message.parameters} for message in messages],
    }


def sent_with(parameters: dict | None) -> list[str]:
    """A reply's parameters as the Markdown export and the review transcript say them."""
    return [f"{name} {value}" for name, value in (parameters or {}).items()]


def token_details(usage: dict | None) -> str:
    """What the upstream said of the counts, when it did: " (900 cached, 300 reasoning)"."""
    usage = usage or {}
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    details = [f"{cached} cached" if cached else "", f"{reasoning} reasoning" if reasoning else ""]
    shown = [detail for detail in details if detail]
    return f" ({', '.join(shown)})" if shown else ""


def as_markdown(conversation: Conversation, messages: list[Message], owner: str = "") -> str:
    """The conversation as Markdown; owner names whose it is (review exports hold several people's)."""
    messages = with_attachments(list(messages))
    by = f" by {owner}" if owner else ""
    lines = [
        f"# {conversation.title or 'Conversation'}",
        "",
        f"_Started {conversation.created:%Y-%m-%d %H:%M} UTC{by}_",
        "",
    ]
    for message in messages:
        heading = ROLE_HEADINGS.get(message.role, message.role)
        details = [message.served_model or message.model]
        if message.role == "assistant" and message.finish_reason and message.finish_reason != "stop":
            details.append(message.finish_reason)
        details += sent_with(message.parameters)
        if message.usage and message.usage.get("total_tokens") is not None:
            details.append(f"{message.usage['total_tokens']} tokens{token_details(message.usage)}")
        suffix = f" ({', '.join(d for d in details if d)})" if any(details) else ""
        lines += [f"## {heading}{suffix}", "", message.content, ""]
        attached = attachment_lines(message)
        if attached:
            lines += ["Attachments:", "", *attached, ""]
    return "\n".join(lines).rstrip() + "\n"
